// How the trellis command line prints times, durations and values.
#pragma once
#include <cmath>
#include <ctime>
#include <optional>
#include <string>

#include <fmt/format.h>

namespace trellis::tool {

/// "2026-12-06 14:03" in local time, or "12-06 14:03" for tables (`short_form`); "-" for none.
inline std::string time_text(std::optional<double> seconds_since_epoch, bool short_form = false) {
  if (!seconds_since_epoch) return "-";
  const std::time_t t = static_cast<std::time_t>(*seconds_since_epoch);
  std::tm local{};
  ::localtime_r(&t, &local);
  char text[32];
  std::strftime(text, sizeof text, short_form ? "%m-%d %H:%M" : "%Y-%m-%d %H:%M", &local);
  return text;
}

/// "42s", "3m 05s", "2h 07m"; "-" for none.
inline std::string duration_text(std::optional<double> seconds) {
  if (!seconds) return "-";
  const auto s = static_cast<long long>(std::llround(std::max(*seconds, 0.0)));
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m {:02}s", s / 60, s % 60);
  return fmt::format("{}h {:02}m", s / 3600, s / 60 % 60);
}

/// A metric value: 4 significant digits for the usual ranges, "nan" when it was not finite.
inline std::string value_text(double v) {
  if (!std::isfinite(v)) return "nan";
  return fmt::format("{:.4g}", v);
}

}  // namespace trellis::tool
