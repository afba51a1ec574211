// table: aligned text columns for the trellis command line, fitted to a terminal width (80 by
// default): the widest columns that may shrink are cut, with "...", until the table fits.
#pragma once
#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace trellis::tool {

struct column {
  std::string header;
  bool right = false;   ///< numbers align right
  bool shrink = false;  ///< may be cut to fit the width (names, paths, reasons)
};

class table {
 public:
  explicit table(std::vector<column> columns) : columns_{std::move(columns)} {}

  void add(std::vector<std::string> row) {
    row.resize(columns_.size());
    rows_.push_back(std::move(row));
  }
  [[nodiscard]] bool empty() const { return rows_.empty(); }

  [[nodiscard]] std::string render(std::size_t width = 80) const {
    std::vector<std::size_t> widths(columns_.size());
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      widths[c] = columns_[c].header.size();
      for (const auto& row : rows_) widths[c] = std::max(widths[c], row[c].size());
    }
    shrink_to(widths, width);
    std::string out;
    auto line = [&](const std::vector<std::string>& cells) {
      std::string text;
      for (std::size_t c = 0; c < cells.size(); ++c) {
        const std::string cell = cut(cells[c], widths[c]);
        const bool last = c + 1 == cells.size();
        if (columns_[c].right)
          text += fmt::format("{:>{}}", cell, widths[c]);
        else
          text += last ? cell : fmt::format("{:<{}}", cell, widths[c]);
        if (!last) text += "  ";
      }
      out += text + "\n";
    };
    std::vector<std::string> headers;
    for (const auto& c : columns_) headers.push_back(c.header);
    line(headers);
    for (const auto& row : rows_) line(row);
    return out;
  }

 private:
  static std::string cut(const std::string& s, std::size_t width) {
    return s.size() <= width ? s : s.substr(0, width > 3 ? width - 3 : 0) + "...";
  }

  void shrink_to(std::vector<std::size_t>& widths, std::size_t width) const {
    auto total = [&] {
      std::size_t t = 2 * (widths.size() - 1);
      for (auto w : widths) t += w;
      return t;
    };
    while (total() > width) {
      std::size_t widest = widths.size();
      for (std::size_t c = 0; c < widths.size(); ++c)
        if (columns_[c].shrink && widths[c] > std::max<std::size_t>(columns_[c].header.size(), 8) &&
            (widest == widths.size() || widths[c] > widths[widest]))
          widest = c;
      if (widest == widths.size()) return;  // nothing left to cut: a wider line it is
      --widths[widest];
    }
  }

  std::vector<column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace trellis::tool
