// line_chart: a chart of series over a shared x axis (learning curves per epoch) as a figure with
// inline SVG: axes with ticks and labels, a legend, a line and markers per series, a text
// description for screen readers, and the numbers in a table under the chart.
#pragma once
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "trellis/report/axis.hpp"
#include "trellis/report/figure.hpp"
#include "trellis/report/html.hpp"
#include "trellis/report/style.hpp"
#include "trellis/report/summary.hpp"
#include "trellis/report/table.hpp"

namespace trellis::report {

struct line_chart {
  std::string id;  ///< unique in its page
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<series> lines;
};

namespace detail {

inline bool finite(const point& p) { return std::isfinite(p.x) && std::isfinite(p.y); }

/// "train_loss: 1.2034 at epoch 1 to 0.3120 at epoch 12", for the chart's description.
inline std::string describe(const series& s, const std::string& x_label) {
  std::vector<point> shown;
  std::copy_if(s.points.begin(), s.points.end(), std::back_inserter(shown), finite);
  if (shown.empty()) return fmt::format("{}: no values", s.name);
  return fmt::format("{}: {} at {} {} to {} at {} {}", s.name, format_value(shown.front().y),
                     x_label, format_value(shown.front().x), format_value(shown.back().y), x_label,
                     format_value(shown.back().x));
}

/// The chart's numbers: one row per x value, one column per series.
inline table data_table(const line_chart& chart) {
  std::set<double> xs;
  for (const auto& s : chart.lines)
    for (const auto& p : s.points)
      if (std::isfinite(p.x)) xs.insert(p.x);
  table t{.caption = chart.title, .columns = {{chart.x_label, true}}, .rows = {}, .css_class = {}};
  for (const auto& s : chart.lines) t.columns.push_back({s.name, true});
  for (double x : xs) {
    std::vector<std::string> row{format_value(x)};
    for (const auto& s : chart.lines) {
      auto at =
          std::find_if(s.points.begin(), s.points.end(), [&](const point& p) { return p.x == x; });
      row.push_back(at == s.points.end() ? "&mdash;" : format_value(at->y));
    }
    t.rows.push_back(std::move(row));
  }
  return t;
}

}  // namespace detail

namespace detail {

/// The plot area of a line chart in SVG pixels and the axes that map values onto it.
struct plot {
  static constexpr double width = 640, height = 360, left = 64, right = width - 20,
                          bottom = height - 50;
  double top;
  axis x, y;
  [[nodiscard]] double px(double value) const { return x.pixel(value, left, right); }
  [[nodiscard]] double py(double value) const { return y.pixel(value, bottom, top); }
};

/// Legend entries laid out in rows across the top of the chart: each entry's position.
struct legend_layout {
  std::vector<std::pair<double, double>> at;
  double height = 0;
};

inline legend_layout lay_out_legend(const std::vector<series>& lines) {
  constexpr double row_height = 20, first_row = 14;
  legend_layout out;
  double x = plot::left, y = first_row;
  for (const auto& s : lines) {
    const double w = 60 + 7.0 * static_cast<double>(s.name.size());  // sample, gap, text
    if (x + w > plot::right && x > plot::left) x = plot::left, y += row_height;
    out.at.emplace_back(x, y);
    x += w;
  }
  out.height = lines.empty() ? 0 : y + row_height - first_row;
  return out;
}

/// A plot whose axes cover every finite point, below the legend.
inline plot fit_plot(const std::vector<series>& lines, double legend_height) {
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo, y_lo = x_lo, y_hi = -x_lo;
  bool whole_x = true;
  for (const auto& s : lines)
    for (const auto& p : s.points)
      if (finite(p)) {
        x_lo = std::min(x_lo, p.x), x_hi = std::max(x_hi, p.x);
        y_lo = std::min(y_lo, p.y), y_hi = std::max(y_hi, p.y);
        whole_x = whole_x && p.x == std::round(p.x);
      }
  return {.top = 24 + legend_height,
          .x = tight_axis(x_lo, x_hi, 6, whole_x ? 1 : 0),
          .y = rounded_axis(y_lo, y_hi, 5)};
}

/// Grid lines and labelled ticks on the y axis, ticks on the x axis, both axis titles.
inline std::string axes_svg(const plot& p, const std::string& x_label, const std::string& y_label) {
  std::string out = "<g class=\"axis axis-y\">\n";
  for (double t : p.y.ticks)
    out += fmt::format(
        "<line class=\"grid\" x1=\"{0}\" x2=\"{1}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\"/>"
        "<text x=\"{3}\" y=\"{4:.1f}\" text-anchor=\"end\">{5}</text>\n",
        plot::left, plot::right, p.py(t), plot::left - 8, p.py(t) + 4, p.y.label(t));
  out += fmt::format(
      "<text class=\"axis-label\" transform=\"translate(16 {:.1f}) rotate(-90)\" "
      "text-anchor=\"middle\">{}</text>\n</g>\n<g class=\"axis axis-x\">\n",
      (p.top + plot::bottom) / 2, escape(y_label));
  for (double t : p.x.ticks)
    out += fmt::format(
        "<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1}\" y2=\"{2}\"/>"
        "<text x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>\n",
        p.px(t), plot::bottom, plot::bottom + 5, plot::bottom + 19, p.x.label(t));
  return out +
         fmt::format(
             "<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\"/>"
             "<line x1=\"{0}\" x2=\"{0}\" y1=\"{3:.1f}\" y2=\"{2}\"/>\n"
             "<text class=\"axis-label\" x=\"{4}\" y=\"{5}\" text-anchor=\"middle\">{6}</text>\n"
             "</g>\n",
             plot::left, plot::right, plot::bottom, p.top, (plot::left + plot::right) / 2,
             plot::height - 10, escape(x_label));
}

/// A series' lines (one per run of finite points: a NaN leaves a gap) and, when they are few
/// enough to tell apart, its markers with their values as tooltips.
inline std::string series_svg(const series& s, const series_style& style, const plot& p,
                              const std::string& x_label) {
  std::string out = fmt::format("<g class=\"series\" data-series=\"{}\">\n", escape(s.name));
  std::string points;
  const auto end_line = [&] {
    if (!points.empty())
      out += fmt::format(
          "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\" "
          "stroke-linejoin=\"round\"{}/>\n",
          points, style.color, dash_attribute(style));
    points.clear();
  };
  for (const auto& point : s.points) {
    if (!finite(point)) {
      end_line();
      continue;
    }
    points +=
        fmt::format("{}{:.1f},{:.1f}", points.empty() ? "" : " ", p.px(point.x), p.py(point.y));
  }
  end_line();
  constexpr std::size_t most_markers = 60;  // past that they hide the line
  if (s.points.size() <= most_markers)
    for (const auto& point : s.points)
      if (finite(point))
        out +=
            marker_svg(style.shape, p.px(point.x), p.py(point.y), style.color,
                       fmt::format("<title>{}, {} {}: {}</title>", escape(s.name), escape(x_label),
                                   format_value(point.x), format_value(point.y))) +
            "\n";
  return out + "</g>\n";
}

inline std::string legend_svg(const std::vector<series>& lines, const legend_layout& layout) {
  std::string out = "<g class=\"legend\">\n";
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto style = style_of(i);
    out += fmt::format(
        "<g class=\"legend-entry\" transform=\"translate({:.1f} {:.1f})\"><line x1=\"0\" "
        "x2=\"32\" y1=\"0\" y2=\"0\" stroke=\"{}\" stroke-width=\"2\"{}/>{}<text x=\"40\" "
        "y=\"4\">{}</text></g>\n",
        layout.at[i].first, layout.at[i].second, style.color, dash_attribute(style),
        marker_svg(style.shape, 16, 0, style.color), escape(lines[i].name));
  }
  return out + "</g>\n";
}

}  // namespace detail

inline std::string render(const line_chart& chart) {
  const auto legend = detail::lay_out_legend(chart.lines);
  const auto plot = detail::fit_plot(chart.lines, legend.height);
  std::string description = fmt::format("{} by {}.", chart.y_label, chart.x_label);
  for (const auto& s : chart.lines)
    description += fmt::format(" {}.", detail::describe(s, chart.x_label));

  std::string out = figure_start({chart.id, chart.title, description, "line-chart",
                                  detail::plot::width, detail::plot::height});
  out += detail::axes_svg(plot, chart.x_label, chart.y_label);
  for (std::size_t i = 0; i < chart.lines.size(); ++i)
    out += detail::series_svg(chart.lines[i], style_of(i), plot, chart.x_label);
  out += detail::legend_svg(chart.lines, legend);
  return out + figure_end(fmt::format(
                   "<details><summary>The numbers of &ldquo;{}&rdquo;</summary>\n{}</details>\n",
                   escape(chart.title), render(detail::data_table(chart))));
}

}  // namespace trellis::report
