// The `train` stage as the core's train_config: its compile-time parameters and run-time fields,
// for a job of a given world size.
#pragma once
#include <cstddef>
#include <string>

#include "trellis/core/train/config.hpp"
#include "trellis/stages/train.hpp"
#include "trellis/text.hpp"

namespace trellis::backends {

/// The stage's settings for a job of `world_size` ranks: with global_batch<N> each rank's batch
/// is N / world_size (rule E026 checks that it divides). transfer_from stays empty: the stage
/// names a registered model (stage_t::transfer::name), which the workspace resolves to a file.
template <class... Ps>
core::train_config train_config_for(const train<Ps...>& stage, std::size_t world_size = 1) {
  using stage_t = train<Ps...>;
  auto str = [](text_view v) { return std::string(v.data(), v.size()); };
  core::train_config c;
  c.epochs = stage_t::facts.epochs;
  c.optimizer = str(stage_t::optimizer::name);
  c.lr = stage.lr;
  c.momentum = stage.momentum;
  c.weight_decay = stage.weight_decay;
  c.schedule = str(stage.schedule.view());
  c.batch = stage.batch;
  if constexpr (stage_t::facts.has_global_batch)
    c.batch = stage_t::facts.global_batch / (world_size == 0 ? 1 : world_size);
  c.accumulate = stage.accumulate;
  c.seed = stage.seed;
  c.checkpoint_every = stage_t::facts.checkpoint_every;
  c.threads = stage.threads;
  c.freeze_backbone = stage.freeze_backbone;
  c.select_best = str(stage_t::facts.best_metric);
  return c;
}

}  // namespace trellis::backends
