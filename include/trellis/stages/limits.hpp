// limits: what a run-time field of a stage accepts, declared once beside the field in the
// stage's `fields` (f.setting("lr", self.lr, at_least(0))). plan/settings_check.hpp checks every
// setting against them, in the plan (so --dry-run says no) and again in every rank.
#pragma once
#include <cstddef>

#include "trellis/text.hpp"

namespace trellis {

struct limits {
  double min = -1.7976931348623157e308;  ///< numbers (each of a list) are finite, at least min
  double max = 1.7976931348623157e308;   ///< and at most max
  bool min_excluded = false;             ///< min itself is refused
  bool max_excluded = false;             ///< max itself is refused
  const text_view* words = nullptr;      ///< a text is one of these words, when given
  std::size_t word_count = 0;
  bool not_empty = false;  ///< a text is not empty
};

constexpr limits at_least(double min) { return {.min = min}; }
constexpr limits between(double min, double max) { return {.min = min, .max = max}; }
/// min < value (a std that divides).
constexpr limits above(double min) { return {.min = min, .min_excluded = true}; }
/// min <= value < max (a momentum that decays).
constexpr limits at_least_below(double min, double max) {
  return {.min = min, .max = max, .max_excluded = true};
}
template <std::size_t N>
constexpr limits one_of(const text_view (&words)[N]) {
  return {.words = words, .word_count = N};
}
inline constexpr limits not_empty{.not_empty = true};

}  // namespace trellis
