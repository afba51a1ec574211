// Name rules E030-E035 and E038: model, experiment, compute, environment and transfer-source
// names against Azure ML's published patterns, and the metric that selects the best checkpoint.
#pragma once

#include "trellis/text.hpp"
#include "trellis/diagnostics.hpp"
#include "trellis/pipeline_view.hpp"
#include "trellis/rules/facts.hpp"

namespace trellis::rules {

namespace detail {
constexpr bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
/// Azure asset names: ^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$. Every pipeline's model name goes
/// through this loop at compile time, so it indexes the characters and tests them inline: each
/// call or iterator step is one more constant-evaluation step per character.
constexpr bool is_asset_name(text_view s) {
  if (s.empty() || s.size() > 255 || !is_alnum(s[0])) return false;
  const char* chars = s.data();
  for (std::size_t i = 1, n = s.size(); i < n; ++i) {
    const char c = chars[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_'))
      return false;
  }
  return true;
}
/// AmlCompute names: ^[a-zA-Z](?![a-zA-Z0-9-]*-\d+$)[a-zA-Z0-9\-]{2,23}$
constexpr bool is_compute_name(text_view s) {
  if (s.size() < 3 || s.size() > 24) return false;
  if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) return false;
  for (char c : s)
    if (!is_alnum(c) && c != '-') return false;
  std::size_t digits = 0;  // trailing digits
  while (digits < s.size() && s[s.size() - 1 - digits] >= '0' && s[s.size() - 1 - digits] <= '9')
    ++digits;
  const bool dash_before = digits > 0 && digits + 1 < s.size() && s[s.size() - 1 - digits] == '-';
  return !dash_before;  // must not end in "-<digits>"
}
}  // namespace detail

template <class... Ctx>
struct E030_invalid_model_name : rule<stages(stage_order::register_model)> {
  static constexpr bool violated(const pipeline_facts& f) {
    return f.has.register_model && !detail::is_asset_name(f.register_model->name);
  }
  template <class V>
  using context = E030_invalid_model_name<typename V::register_model>;
};
template <class... C>
constexpr void diagnose(E030_invalid_model_name<C...>) {
  static_assert(dependent_false<C...>,
                "[trellis E030] register_model: the model name breaks Azure's rule: 1-255 "
                "letters, digits, '-' or '_', starting with a letter or digit. Fix: rename it.");
}

template <class... Ctx>
struct E031_invalid_experiment_name : rule<stages(stage_order::train)> {
  static constexpr bool violated(const pipeline_facts& f) {
    return f.has.train && !detail::is_asset_name(f.train->experiment);
  }
  template <class V>
  using context = E031_invalid_experiment_name<typename V::train>;
};
template <class... C>
constexpr void diagnose(E031_invalid_experiment_name<C...>) {
  static_assert(dependent_false<C...>,
                "[trellis E031] train: the experiment name breaks Azure's rule: 1-255 letters, "
                "digits, '-' or '_', starting with a letter or digit. Fix: rename it.");
}

template <class... Ctx>
struct E032_invalid_compute_name : rule<stages(stage_order::compute)> {
  static constexpr bool violated(const pipeline_facts& f) {
    return f.has.compute && !f.compute->is_local &&
           !detail::is_compute_name(f.compute->cluster_name);
  }
  template <class V>
  using context = E032_invalid_compute_name<typename V::compute>;
};
template <class... C>
constexpr void diagnose(E032_invalid_compute_name<C...>) {
  static_assert(
      dependent_false<C...>,
      "[trellis E032] compute: the cluster name breaks Azure's rule: 3-24 letters, "
      "digits or '-', starting with a letter, not ending in '-<digits>'. Fix: rename it.");
}

template <class... Ctx>
struct E033_invalid_environment_name : rule<stages(stage_order::environment)> {
  static constexpr bool violated(const pipeline_facts& f) {
    return f.has.environment && !f.environment->curated &&
           !detail::is_asset_name(f.environment->name);
  }
  template <class V>
  using context = E033_invalid_environment_name<typename V::environment::source>;
};
template <class... C>
constexpr void diagnose(E033_invalid_environment_name<C...>) {
  static_assert(
      dependent_false<C...>,
      "[trellis E033] environment: the custom environment name breaks Azure's rule: "
      "1-255 letters, digits, '-' or '_', starting with a letter or digit. Fix: rename it.");
}

template <class... Ctx>
struct E038_select_best_on_test : rule<stages(stage_order::train)> {
  static constexpr bool violated(const pipeline_facts& f) {
    return f.has.train && f.train->best_metric.starts_with("test_");
  }
  template <class V>
  using context = E038_select_best_on_test<typename V::train::given::select_best>;
};
template <class... C>
constexpr void diagnose(E038_select_best_on_test<C...>) {
  static_assert(dependent_false<C...>,
                "[trellis E038] train: select_best names a test metric; a model chosen on its "
                "test data would overstate what it does on new data. Fix: select on val_accuracy "
                "or val_loss; the test split is evaluated once, on the model they choose.");
}

template <class... Ctx>
struct E034_best_metric_not_logged : rule<stages(stage_order::train)> {
  static constexpr bool violated(const pipeline_facts& f) {
    return f.has.train && !f.train->logs_best_metric;
  }
  template <class V>
  using context = E034_best_metric_not_logged<typename V::train>;
};
template <class... C>
constexpr void diagnose(E034_best_metric_not_logged<C...>) {
  static_assert(dependent_false<C...>,
                "[trellis E034] train: select_best names a metric train does not log. Fix: use "
                "train_loss, val_loss, val_accuracy, lr or images_per_s, or declare the metric "
                "with logs<\"name\">.");
}

template <class... Ctx>
struct E035_invalid_transfer_source : rule<stages(stage_order::train)> {
  static constexpr bool violated(const pipeline_facts& f) {
    return f.has.train && !f.train->transfer.empty() &&
           !detail::is_asset_name(f.train->transfer);
  }
  template <class V>
  using context = E035_invalid_transfer_source<typename V::train::transfer>;
};
template <class... C>
constexpr void diagnose(E035_invalid_transfer_source<C...>) {
  static_assert(dependent_false<C...>,
                "[trellis E035] train: transfer_from names no valid registered model: names are "
                "1-255 letters, digits, '-' or '_', starting with a letter or digit. Fix: use the "
                "name given to register_model.");
}

}  // namespace trellis::rules
