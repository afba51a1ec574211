// html: the text helpers every part of a page uses: escaping user text (run ids, class and metric
// names) for HTML and SVG, and writing numbers the same way everywhere.
#pragma once
#include <fmt/format.h>

#include <cmath>
#include <string>
#include <string_view>

namespace trellis::report {

/// Text safe in element content and in double-quoted attributes.
inline std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

/// A metric as a table shows it: whole numbers without decimals, large values with one, the
/// rest (losses, accuracies) with four; NaN and infinities spelled out.
inline std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+inf" : "-inf";
  if (value == std::round(value) && std::fabs(value) < 1e15) return fmt::format("{:.0f}", value);
  if (std::fabs(value) >= 100) return fmt::format("{:.1f}", value);
  return fmt::format("{:.4f}", value);
}

}  // namespace trellis::report
