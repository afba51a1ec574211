// axis: the value range of a chart axis and its ticks at 1, 2 or 5 times a power of ten, and
// the mapping from values to pixels.
#pragma once
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace trellis::report {

struct axis {
  double lo = 0, hi = 1;  ///< the values at the two ends
  std::vector<double> ticks;
  int decimals = 0;  ///< enough for the tick step

  /// Where `value` lies between the pixel positions of lo (`from`) and hi (`to`).
  [[nodiscard]] double pixel(double value, double from, double to) const {
    return from + (value - lo) / (hi - lo) * (to - from);
  }
  [[nodiscard]] std::string label(double tick) const {
    return fmt::format("{:.{}f}", tick, decimals);
  }
};

namespace detail {

/// About `count` steps over [lo, hi], at least `min_step`.
inline double nice_step(double lo, double hi, int count, double min_step) {
  const double raw = (hi - lo) / count;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / magnitude;
  const double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  return std::max(nice * magnitude, min_step);
}

/// An empty or one-value range widened so it has a length.
inline void widen(double& lo, double& hi) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  if (hi > lo) return;
  const double pad = lo == 0 ? 1 : std::fabs(lo) * 0.1;
  lo -= pad;
  hi += pad;
}

}  // namespace detail

/// An axis covering [lo, hi] whose ends are ticks (a y axis). `min_step` 1 keeps ticks whole.
inline axis rounded_axis(double lo, double hi, int count = 5, double min_step = 0) {
  detail::widen(lo, hi);
  const double step = detail::nice_step(lo, hi, count, min_step);
  axis a;
  a.lo = std::floor(lo / step) * step;
  a.hi = std::ceil(hi / step) * step;
  for (int i = 0; a.lo + i * step <= a.hi + step * 1e-9; ++i) {
    const double tick = a.lo + i * step;
    a.ticks.push_back(std::fabs(tick) < step * 1e-9 ? 0.0 : tick);  // no "-0.0" label
  }
  a.decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
  return a;
}

/// An axis that ends where the data does, with the ticks that fall inside (an epoch axis).
inline axis tight_axis(double lo, double hi, int count = 6, double min_step = 0) {
  detail::widen(lo, hi);
  axis a = rounded_axis(lo, hi, count, min_step);
  a.lo = lo;
  a.hi = hi;
  std::erase_if(a.ticks, [&](double t) { return t < lo - 1e-9 || t > hi + 1e-9; });
  return a;
}

}  // namespace trellis::report
