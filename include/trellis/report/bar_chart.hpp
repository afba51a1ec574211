// bar_chart: horizontal bars, one labelled value each (test accuracy per run, images per second
// per rank), as a figure with inline SVG, a value axis, and a description for screen readers.
#pragma once
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "trellis/report/axis.hpp"
#include "trellis/report/figure.hpp"
#include "trellis/report/html.hpp"
#include "trellis/report/style.hpp"

namespace trellis::report {

struct bar {
  std::string label;
  double value = 0;       ///< NaN or infinite: no bar, the value spelled out
  std::size_t style = 0;  ///< style_of(style) colours it: the same as the run's line elsewhere
};

struct bar_chart {
  std::string id;  ///< unique in its page
  std::string title;
  std::string value_label;
  std::vector<bar> bars;
  std::optional<double> max_value;  ///< the axis's end when values have one (1 for accuracy)
};

inline std::string render(const bar_chart& chart) {
  constexpr double width = 640, right = width - 70, bar_height = 22, gap = 10, top = 10;
  std::size_t longest = 0;
  for (const auto& b : chart.bars) longest = std::max(longest, b.label.size());
  const double left = std::clamp(16 + 7.0 * static_cast<double>(longest), 80.0, 260.0);
  const double bottom = top + static_cast<double>(chart.bars.size()) * (bar_height + gap);
  const double height = bottom + 46;

  double hi = chart.max_value.value_or(0);
  for (const auto& b : chart.bars)
    if (std::isfinite(b.value)) hi = std::max(hi, b.value);
  const axis x = rounded_axis(0, hi, 5);

  std::string description = fmt::format("{}:", chart.value_label);
  for (const auto& b : chart.bars)
    description += fmt::format(" {} {};", b.label, format_value(b.value));

  std::string out = figure_start({chart.id, chart.title, description, "bar-chart", width, height});
  out += "<g class=\"axis axis-x\">\n";
  for (double t : x.ticks)
    out += fmt::format(
        "<line class=\"grid\" x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1}\" y2=\"{2}\"/>"
        "<text x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>\n",
        x.pixel(t, left, right), top, bottom + 5, bottom + 19, x.label(t));
  out += fmt::format(
      "<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\"/>\n<text class=\"axis-label\" "
      "x=\"{3}\" y=\"{4}\" text-anchor=\"middle\">{5}</text>\n</g>\n<g class=\"bars\">\n",
      left, right, bottom, (left + right) / 2, height - 8, escape(chart.value_label));

  for (std::size_t i = 0; i < chart.bars.size(); ++i) {
    const auto& b = chart.bars[i];
    const double y = top + static_cast<double>(i) * (bar_height + gap) + gap / 2;
    const double baseline = y + bar_height / 2 + 4;
    const double end = std::isfinite(b.value) ? x.pixel(b.value, left, right) : left;
    out += fmt::format(
        "<g class=\"bar\" data-label=\"{0}\"><text x=\"{1}\" y=\"{2:.1f}\" "
        "text-anchor=\"end\">{0}</text>",
        escape(b.label), left - 8, baseline);
    if (std::isfinite(b.value))  // NaN: no bar, only the value's text
      out += fmt::format(
          "<rect x=\"{}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{}\" fill=\"{}\">"
          "<title>{}: {}</title></rect>",
          left, y, std::max(0.0, end - left), bar_height, style_of(b.style).color, escape(b.label),
          format_value(b.value));
    out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text></g>\n", end + 6, baseline,
                       format_value(b.value));
  }
  return out + "</g>\n" + figure_end();
}

}  // namespace trellis::report
