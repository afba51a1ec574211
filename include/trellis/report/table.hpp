// table: an HTML table with a caption, column headers and a header cell per row, the form every
// table of the pages takes (metrics, ranks, chart data, the comparison's runs).
#pragma once
#include <fmt/format.h>

#include <string>
#include <vector>

#include "trellis/report/html.hpp"

namespace trellis::report {

struct column {
  std::string name;
  bool numeric = false;  ///< right-aligned, figures in columns
};

struct table {
  std::string caption;
  std::vector<column> columns;
  std::vector<std::vector<std::string>> rows;  ///< cells are HTML: pass text through escape()
  std::string css_class;
};

/// The first cell of each row is that row's header.
inline std::string render(const table& t) {
  const auto align = [&](std::size_t c) {
    return c < t.columns.size() && t.columns[c].numeric ? R"( class="num")" : "";
  };
  std::string out = fmt::format(
      "<table{}>\n<caption>{}</caption>\n<thead><tr>",
      t.css_class.empty() ? "" : fmt::format(R"( class="{}")", t.css_class), escape(t.caption));
  for (std::size_t c = 0; c < t.columns.size(); ++c)
    out += fmt::format(R"(<th scope="col"{}>{}</th>)", align(c), escape(t.columns[c].name));
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& row : t.rows) {
    out += "<tr>";
    for (std::size_t c = 0; c < row.size(); ++c)
      out += c == 0 ? fmt::format(R"(<th scope="row"{}>{}</th>)", align(c), row[c])
                    : fmt::format("<td{}>{}</td>", align(c), row[c]);
    out += "</tr>\n";
  }
  return out + "</tbody>\n</table>\n";
}

}  // namespace trellis::report
