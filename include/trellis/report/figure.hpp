// figure: the frame every chart sits in: a <figure> whose caption is the chart's visible title
// and accessible name, and an <svg> of a given size with a title and a description for screen
// readers.
#pragma once
#include <fmt/format.h>

#include <string>
#include <string_view>

#include "trellis/report/html.hpp"

namespace trellis::report {

struct figure_frame {
  std::string_view id;  ///< unique in its page
  std::string_view title;
  std::string_view description;  ///< what the chart shows, in words
  std::string_view svg_class;
  double width;
  double height;
};

/// Opens the figure and its svg; the chart's elements follow, then figure_end().
inline std::string figure_start(const figure_frame& f) {
  return fmt::format(
      "<figure class=\"chart\" id=\"{0}\">\n<figcaption id=\"{0}-title\">{1}</figcaption>\n"
      "<svg class=\"{2}\" viewBox=\"0 0 {3} {4}\" width=\"{3}\" height=\"{4}\" role=\"img\" "
      "aria-labelledby=\"{0}-title\" aria-describedby=\"{0}-desc\">\n<title>{1}</title>\n"
      "<desc id=\"{0}-desc\">{5}</desc>\n",
      escape(f.id), escape(f.title), f.svg_class, f.width, f.height, escape(f.description));
}

/// Closes the svg; `after_svg` (a data table) goes inside the figure, under the chart.
inline std::string figure_end(std::string_view after_svg = {}) {
  return fmt::format("</svg>\n{}</figure>\n", after_svg);
}

}  // namespace trellis::report
