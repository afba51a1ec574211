// confusion_matrix: the test split's confusion matrix as an HTML table, a row per true class and
// a column per predicted class, each cell shaded by its share of the row, with each class's
// recall; class names in the headers.
#pragma once
#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <string>
#include <string_view>

#include "trellis/report/html.hpp"
#include "trellis/report/summary.hpp"

namespace trellis::report {

inline std::string render(const confusion_matrix& m, std::string_view caption) {
  const auto name = [&](std::size_t c) {
    return escape(c < m.class_names.size() ? m.class_names[c] : fmt::format("class {}", c));
  };
  const std::size_t classes = m.counts.size();
  // Mistakes are shaded against the largest one, so the classes a model mixes up stand out.
  std::int64_t worst_mistake = 0;
  for (std::size_t t = 0; t < classes; ++t)
    for (std::size_t p = 0; p < m.counts[t].size(); ++p)
      if (p != t) worst_mistake = std::max(worst_mistake, m.counts[t][p]);
  std::string out = fmt::format(
      "<table class=\"confusion\">\n<caption>{}</caption>\n<thead>\n<tr><td rowspan=\"2\"></td>"
      "<th scope=\"colgroup\" colspan=\"{}\">predicted class</th><td colspan=\"2\"></td></tr>\n"
      "<tr>",
      escape(caption), classes);
  for (std::size_t c = 0; c < classes; ++c)
    out += fmt::format("<th scope=\"col\">{}</th>", name(c));
  out +=
      "<th scope=\"col\" class=\"num\">images</th><th scope=\"col\" class=\"num\">recall</th>"
      "</tr>\n</thead>\n<tbody>\n";
  for (std::size_t t = 0; t < classes; ++t) {
    const auto& row = m.counts[t];
    const auto total = std::accumulate(row.begin(), row.end(), std::int64_t{0});
    out += fmt::format("<tr><th scope=\"row\">true {}</th>", name(t));
    for (std::size_t p = 0; p < classes; ++p) {
      const std::int64_t n = p < row.size() ? row[p] : 0;
      const auto share = [](std::int64_t part, std::int64_t whole) {
        return whole > 0 ? static_cast<double>(part) / static_cast<double>(whole) : 0.0;
      };
      // Right answers blue by their share of the row, mistakes vermillion; white text on dark.
      const double shade = p == t ? share(n, total) : 0.6 * share(n, worst_mistake);
      out += fmt::format(
          "<td class=\"num{}\" style=\"background-color: rgba({}, {:.3f});{}\" "
          "title=\"true {}, predicted {}: {} of {}\">{}</td>",
          p == t ? " hit" : "", p == t ? "0, 114, 178" : "213, 94, 0", shade,
          shade > 0.55 ? " color: #fff;" : "", name(t), name(p), n, total, n);
    }
    out += fmt::format("<td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n", total,
                       total > 0 && t < row.size()
                           ? format_value(static_cast<double>(row[t]) / static_cast<double>(total))
                           : "&mdash;");
  }
  return out + "</tbody>\n</table>\n";
}

}  // namespace trellis::report
