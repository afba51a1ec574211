// page: the self-contained HTML document a results page is (styles inline, no script, nothing
// fetched), made of titled sections; and writing it so a reader never sees half a page.
#pragma once
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "trellis/report/html.hpp"

namespace trellis::report {

struct section {
  std::string id;
  std::string heading;
  std::string html;
};

namespace detail {

inline constexpr std::string_view page_style = R"(
:root { color: #1b1b1b; background: #fff; line-height: 1.45;
        font-family: system-ui, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
body { max-width: 1320px; margin: 1.5rem auto; padding: 0 1.25rem; }
h1 { font-size: 1.6rem; margin: 0 0 .2rem; }
h2 { font-size: 1.2rem; border-bottom: 1px solid #ccc; padding-bottom: .2rem; }
header p { margin: .1rem 0; color: #444; }
section { margin: 1.8rem 0; }
.charts { display: grid; gap: 1.5rem;
          grid-template-columns: repeat(auto-fit, minmax(min(100%, 480px), 1fr)); }
figure { margin: 0; }
figcaption { font-weight: 600; margin-bottom: .3rem; }
svg { display: block; width: 100%; max-width: 640px; height: auto; font-size: 12px; }
svg text { fill: #333; }
svg .axis line { stroke: #555; }
svg line.grid { stroke: #e2e2e2; }
svg .axis-label { font-size: 13px; fill: #1b1b1b; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin: .5rem 0; }
caption { text-align: left; font-weight: 600; padding-bottom: .3rem; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #ddd; text-align: left; }
.num { text-align: right; }
table.confusion td { min-width: 3.5em; }
table.confusion td.hit { font-weight: 600; }
details { margin-top: .4rem; }
summary { color: #444; cursor: pointer; }
dl.lineage { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1.2rem; }
dl.lineage dt { font-weight: 600; }
dl.lineage dd { margin: 0; font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
footer { color: #666; font-size: .85rem; border-top: 1px solid #ccc; padding-top: .4rem; }
* { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
@media print {
  :root { font-size: 10.5pt; }
  body { max-width: none; margin: 0; padding: 0; }
  .charts { grid-template-columns: 1fr 1fr; }
  section, figure, table { break-inside: avoid; }
  h2 { break-after: avoid; }
  details { display: none; }
  a { color: inherit; text-decoration: none; }
}
)";

}  // namespace detail

/// Charts or tables next to each other on a wide screen, one under the other on a narrow one.
inline std::string side_by_side(std::initializer_list<std::string> parts) {
  std::string out = "<div class=\"charts\">\n";
  for (const auto& part : parts) out += part;
  return out + "</div>\n";
}

/// A whole page: `subtitle_html` goes under the title (HTML: escape() its text).
inline std::string render_page(std::string_view title, std::string_view subtitle_html,
                               const std::vector<section>& sections) {
  std::string out = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>{0}</title>\n<style>{1}</style>\n</head>\n<body>\n<header>\n<h1>{0}</h1>\n{2}"
      "</header>\n<main>\n",
      escape(title), detail::page_style, subtitle_html);
  for (const auto& s : sections)
    out += fmt::format(
        "<section id=\"{0}\" aria-labelledby=\"{0}-heading\">\n<h2 id=\"{0}-heading\">{1}</h2>\n{2}"
        "</section>\n",
        escape(s.id), escape(s.heading), s.html);
  return out + "</main>\n<footer>Written by trellis.</footer>\n</body>\n</html>\n";
}

/// Writes `html` to `file` through a temporary file renamed over it.
inline void write_page(const std::filesystem::path& file, std::string_view html) {
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path());
  auto partial = file;
  partial += ".partial";
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    out << html;
    out.close();
    if (!out)
      throw std::runtime_error(fmt::format("[trellis] report: cannot write {}", partial.string()));
  }
  std::filesystem::rename(partial, file);
}

}  // namespace trellis::report
