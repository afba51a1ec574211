// check_settings: every run-time setting of a pipeline (the braces, after --set) against the
// limits its stage declares beside it, and against the stage's relations between settings. The
// plan runs it (a failed "settings" check: --dry-run says no) and every rank runs it again.
#pragma once
#include <charconv>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "trellis/cli/settings.hpp"
#include "trellis/pipeline.hpp"
#include "trellis/plan/field_values.hpp"
#include "trellis/plan/run_plan.hpp"

namespace trellis::plan {

/// Settings that break their limits: what the ranks throw (each line names stage.field=value).
struct invalid_settings : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

namespace detail {
inline std::string number_text(double v) {
  char buffer[32];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);
  return ec == std::errc{} ? std::string(buffer, end) : std::string{"?"};
}
inline std::string piece(std::string_view s) { return std::string{s}; }
inline std::string piece(const std::string& s) { return s; }
inline std::string piece(const char* s) { return s; }
inline std::string piece(text_view s) { return std::string{to_std(s)}; }
inline std::string piece(const text& s) { return std::string{to_std(s.view())}; }
inline std::string piece(bool v) { return v ? "true" : "false"; }
inline std::string piece(double v) { return number_text(v); }
template <class I>
  requires(std::is_integral_v<I> && !std::is_same_v<I, bool>)
std::string piece(I v) {
  return std::to_string(v);
}
inline std::string piece(const double (&v)[3]) {
  return number_text(v[0]) + "," + number_text(v[1]) + "," + number_text(v[2]);
}

/// The numbers of a setting, for its limits.
template <class T>
  requires(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>)
std::vector<double> numbers_of(const T& v) {
  return {static_cast<double>(v)};
}
inline std::vector<double> numbers_of(const double (&v)[3]) { return {v[0], v[1], v[2]}; }

/// What is wrong with one number, or "".
inline std::string number_problem(double v, const limits& l) {
  if (!__builtin_isfinite(v)) return "must be a finite number";
  const bool low = l.min_excluded ? !(v > l.min) : !(v >= l.min);
  const bool high = l.max_excluded ? !(v < l.max) : !(v <= l.max);
  if (!low && !high) return "";
  const bool has_min = l.min > -1e308, has_max = l.max < 1e308;
  std::string range;
  if (has_min && has_max)
    range = "from " + number_text(l.min) + (l.min_excluded ? " (excluded)" : "") + " to " +
            number_text(l.max) + (l.max_excluded ? " (excluded)" : "");
  else if (has_min)
    range = (l.min_excluded ? "above " : "at least ") + number_text(l.min);
  else
    range = (l.max_excluded ? "below " : "at most ") + number_text(l.max);
  return "must be " + range;
}

/// Visits one stage's fields and relations, collecting "stage.field=value: what is wrong".
struct limit_checker {
  std::string_view stage;
  std::vector<std::string>& problems;

  template <class... Why>
  void refuse(std::string_view field, const auto& value, const Why&... why) {
    std::string line = std::string{stage} + "." + std::string{field} + "=" + piece(value) + ": ";
    ((line += piece(why)), ...);
    problems.push_back(std::move(line));
  }

  template <class T>
  void setting(text_view name, const T& value, const limits& l = {}) {
    if constexpr (std::is_same_v<T, text>) {
      const auto v = to_std(value.view());
      if (l.not_empty && v.empty()) refuse(to_std(name), value, "must not be empty");
      if (l.words == nullptr) return;
      std::string words;
      for (std::size_t i = 0; i < l.word_count; ++i) {
        if (to_std(l.words[i]) == v) return;
        words += (i == 0 ? "" : i + 1 == l.word_count ? " or " : ", ") + piece(l.words[i]);
      }
      refuse(to_std(name), value, "must be ", words);
    } else if constexpr (requires { numbers_of(value); }) {
      for (const double v : numbers_of(value))
        if (auto why = number_problem(v, l); !why.empty()) return refuse(to_std(name), value, why);
    }
  }
  template <class T>
  void fixed(text_view, const T&) {}
  void inapplicable(text_view, text_view) {}
};
}  // namespace detail

/// Every problem of the pipeline's settings, one line each ("train.lr=-1: must be at least 0");
/// empty when they are all fine.
template <class Pipeline>
std::vector<std::string> check_settings(const Pipeline& p) {
  std::vector<std::string> problems;
  for_each_stage(p, [&](const auto& stage) {
    using S = std::remove_cvref_t<decltype(stage)>;
    detail::limit_checker checker{cli::keyword_of<S>(), problems};
    S::fields(stage, checker);
    if constexpr (requires { S::relations(stage, checker); }) S::relations(stage, checker);
  });
  return problems;
}

/// The settings check of the plan: ok, or each problem and where to change it.
template <class Pipeline>
machine_check settings_check(const Pipeline& p) {
  const auto problems = check_settings(p);
  machine_check c{"settings", problems.empty(), "every run-time setting is within its limits"};
  if (c.ok) return c;
  c.detail.clear();
  for (const auto& line : problems) c.detail += (c.detail.empty() ? "" : "; ") + line;
  c.detail += " (change it in the stage's braces or with --set stage.field=value)";
  return c;
}

/// For the ranks: throws invalid_settings with every problem, as the plan reports them.
template <class Pipeline>
void require_valid_settings(const Pipeline& p) {
  const auto c = settings_check(p);
  if (!c.ok) throw invalid_settings("[trellis] settings: " + c.detail);
}

}  // namespace trellis::plan
