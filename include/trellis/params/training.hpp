// Training parameters: epochs, optimizer, global batch, checkpoint cadence, transfer source,
// experiment name, extra logged metrics and the metric that selects the best checkpoint.
#pragma once
#include <cstddef>

#include "trellis/text.hpp"
#include "trellis/fixed_string.hpp"
#include "trellis/params/param.hpp"

namespace trellis {

namespace kinds {
TRELLIS_KIND(epochs);
TRELLIS_KIND(optimizer);
TRELLIS_KIND(global_batch);
TRELLIS_KIND(checkpoint_every);
TRELLIS_KIND(transfer_from);
TRELLIS_KIND(experiment);
TRELLIS_KIND(logs);
TRELLIS_KIND(select_best);
}  // namespace kinds

template <std::size_t N>
struct epochs {
  using kind = kinds::epochs;
  static constexpr std::size_t value = N;
};

/// SGD with momentum (the momentum value is a run-time field of `train`).
struct sgd final {
  using kind = kinds::optimizer;
  static constexpr text_view name = "sgd";
};
struct adam final {
  using kind = kinds::optimizer;
  static constexpr text_view name = "adam";
};

/// The batch summed over all ranks; must divide by the world size (rule E026).
template <std::size_t N>
struct global_batch {
  using kind = kinds::global_batch;
  static constexpr std::size_t value = N;
};

/// Write a checkpoint every N epochs; 0 turns checkpoints off.
template <std::size_t N>
struct checkpoint_every {
  using kind = kinds::checkpoint_every;
  static constexpr std::size_t value = N;
};

/// Start from the latest version of a model this workspace has registered.
template <fixed_string Name>
struct transfer_from {
  using kind = kinds::transfer_from;
  static constexpr text_view name = Name.view();
};

template <fixed_string Name>
struct experiment {
  using kind = kinds::experiment;
  static constexpr text_view name = Name.view();
};

/// Metrics a user model logs in addition to the ones `train` always logs.
template <fixed_string... Names>
struct logs {
  using kind = kinds::logs;
  static constexpr text_view names[sizeof...(Names) + 1] = {Names.view()..., ""};
  static constexpr std::size_t size = sizeof...(Names);
};

/// The metric whose best value selects the checkpoint kept as the model (rule E034).
template <fixed_string Metric>
struct select_best {
  using kind = kinds::select_best;
  static constexpr text_view name = Metric.view();
};

}  // namespace trellis
