// style: how the n-th series of a chart is drawn. Colours from the Okabe-Ito palette (told apart
// with colour-blindness), and a dash pattern and marker shape per series for grey-scale print.
#pragma once
#include <fmt/format.h>

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace trellis::report {

enum class marker { circle, square, triangle, diamond };

struct series_style {
  std::string_view color;
  std::string_view dash;  ///< an SVG stroke-dasharray; empty: solid
  marker shape;
};

inline series_style style_of(std::size_t index) {
  static constexpr std::array<series_style, 6> styles{{
      {"#0072B2", "", marker::circle},
      {"#D55E00", "7 4", marker::square},
      {"#009E73", "2 3", marker::triangle},
      {"#CC79A7", "9 3 2 3", marker::diamond},
      {"#E69F00", "4 2", marker::circle},
      {"#56B4E9", "1 2", marker::square},
  }};
  return styles[index % styles.size()];
}

/// The stroke-dasharray attribute of a style, with its leading space; empty when solid.
inline std::string dash_attribute(const series_style& style) {
  return style.dash.empty() ? "" : fmt::format(" stroke-dasharray=\"{}\"", style.dash);
}

/// The SVG element of a marker centred at (x, y); `inner` goes inside it (a <title>).
inline std::string marker_svg(marker shape, double x, double y, std::string_view color,
                              std::string_view inner = {}) {
  constexpr double r = 3.5;
  switch (shape) {
    case marker::square:
      return fmt::format(
          R"(<rect x="{:.1f}" y="{:.1f}" width="{}" height="{}" fill="{}">{}</rect>)", x - r, y - r,
          2 * r, 2 * r, color, inner);
    case marker::triangle:
      return fmt::format(
          R"(<polygon points="{:.1f},{:.1f} {:.1f},{:.1f} {:.1f},{:.1f}" fill="{}">{}</polygon>)",
          x, y - r - 0.5, x + r + 0.5, y + r, x - r - 0.5, y + r, color, inner);
    case marker::diamond:
      return fmt::format(
          R"(<polygon points="{:.1f},{:.1f} {:.1f},{:.1f} {:.1f},{:.1f} {:.1f},{:.1f}" )"
          R"(fill="{}">{}</polygon>)",
          x, y - r - 1, x + r + 1, y, x, y + r + 1, x - r - 1, y, color, inner);
    case marker::circle:
    default:
      return fmt::format(R"(<circle cx="{:.1f}" cy="{:.1f}" r="{}" fill="{}">{}</circle>)", x, y, r,
                         color, inner);
  }
}

}  // namespace trellis::report
