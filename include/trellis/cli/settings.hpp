// `--set stage.field=value`: changes a run-time field (the braces of a stage). A compile-time
// field (part of the stage's type), an unknown stage or field, or a value of the wrong type
// is a usage error that says which and what would be accepted.
#pragma once
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

#include "trellis/plan/field_values.hpp"
#include "trellis/stages/stage.hpp"

namespace trellis::cli {

/// A command-line mistake; trellis::main prints it and exits with status 2.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <class S>
std::string_view keyword_of() {
  return plan::to_std(stage_keywords[static_cast<std::size_t>(S::order)]);
}

namespace detail {
struct field_setter {
  std::string_view field, value, key;
  bool found = false, fixed_hit = false;
  std::string settable;  // for the "unknown field" message
  std::string_view inapplicable_why;  // set when the field is one the stage's type makes moot

  template <class T>
  void setting(text_view name, T& target, const limits& = {}) {
    settable += (settable.empty() ? "" : ", ") + std::string{plan::to_std(name)};
    if (plan::to_std(name) != field) return;
    found = true;
    try {
      plan::parse_value(value, target);
    } catch (const plan::bad_value& e) {
      throw usage_error("--set " + std::string{key} + "=" + std::string{value} + ": " + e.what());
    }
  }
  template <class T>
  void fixed(text_view name, const T&) {
    if (plan::to_std(name) == field) fixed_hit = true;
  }
  void inapplicable(text_view name, text_view why) {
    if (plan::to_std(name) == field) inapplicable_why = plan::to_std(why);
  }
};
}  // namespace detail

/// Applies one `stage.field=value` assignment to the pipeline.
template <class Pipeline>
void apply_setting(Pipeline& pipeline, std::string_view assignment) {
  const auto eq = assignment.find('=');
  const auto dot = assignment.find('.');
  if (eq == std::string_view::npos || dot == std::string_view::npos || dot > eq)
    throw usage_error("--set " + std::string{assignment} +
                      ": expected stage.field=value, e.g. train.lr=0.01");
  const auto key = assignment.substr(0, eq);
  const auto stage_name = key.substr(0, dot);
  detail::field_setter setter{
      key.substr(dot + 1), assignment.substr(eq + 1), key, false, false, {}, {}};

  bool stage_found = false;
  std::string stages;
  for_each_stage(pipeline, [&](auto& stage) {
    using S = std::remove_cvref_t<decltype(stage)>;
    stages += (stages.empty() ? "" : ", ") + std::string{keyword_of<S>()};
    if (keyword_of<S>() != stage_name) return;
    stage_found = true;
    S::fields(stage, setter);
  });
  if (!stage_found)
    throw usage_error("--set " + std::string{key} + ": this pipeline has no stage '" +
                      std::string{stage_name} + "' (it has: " + stages + ")");
  if (!setter.inapplicable_why.empty())
    throw usage_error("--set " + std::string{key} + ": this pipeline does not use '" +
                      std::string{setter.field} + "': " + std::string{setter.inapplicable_why} +
                      " (run-time fields: " + setter.settable + ")");
  if (setter.fixed_hit)
    throw usage_error("--set " + std::string{key} + ": '" + std::string{setter.field} +
                      "' is fixed at compile time in the type of " + std::string{stage_name} +
                      "<...>; change the program and rebuild (run-time fields: " +
                      setter.settable + ")");
  if (!setter.found)
    throw usage_error("--set " + std::string{key} + ": " + std::string{stage_name} +
                      " has no field '" + std::string{setter.field} +
                      "' (run-time fields: " + setter.settable + ")");
}

}  // namespace trellis::cli
