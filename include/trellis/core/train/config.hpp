// train_config: every setting the trainer reads, as plain run-time values, and config_from,
// which turns a front-end `train` stage (compile-time parameters and run-time fields) into one.
#pragma once
#include <c10/core/Device.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "trellis/core/train/metric_record.hpp"
#include "trellis/stages/train.hpp"

namespace trellis::core {

struct train_config {
  std::size_t epochs = 1;
  std::string optimizer = "sgd";  ///< "sgd" (with momentum) or "adam"
  double lr = 0.01;
  double momentum = 0.9;  ///< sgd only
  double weight_decay = 0.0;
  /// "constant"; "step": x0.1 every third of the epochs (per epoch); "cosine": from lr to 0 over
  /// all optimizer steps (per step).
  std::string schedule = "cosine";
  std::size_t batch = 32;               ///< per rank and micro-batch
  std::size_t accumulate = 1;           ///< micro-batches per optimizer step
  std::uint64_t seed = 0;               ///< rank r seeds LibTorch's generator with seed + r
  std::size_t checkpoint_every = 1;     ///< epochs between checkpoints; 0 writes none
  std::size_t threads = 1;              ///< intra-op threads; 0 leaves LibTorch's default
  bool freeze_backbone = false;         ///< train only the head (see classifier::freeze_backbone)
  std::filesystem::path transfer_from;  ///< state dict file whose backbone the model starts from
  std::string select_best = "val_accuracy";  ///< val_accuracy (max) or val_loss (min)
  std::vector<std::string> class_names;      ///< label i's name, for the test confusion matrix
  std::size_t log_every_steps = 50;
  std::filesystem::path run_dir = ".";  ///< metrics.jsonl, event files, checkpoints/, outputs/
  metric_sink forward_metrics;          ///< also given every value rank 0 logs (e.g. MLflow)
  c10::Device device = c10::kCPU;
};

/// Throws std::invalid_argument naming the first field that makes no sense.
inline void check_config(const train_config& c) {
  auto fail = [](const std::string& what) {
    throw std::invalid_argument("[trellis] train: " + what);
  };
  if (c.epochs == 0) fail("epochs must be at least 1");
  if (c.optimizer != "sgd" && c.optimizer != "adam")
    fail("optimizer '" + c.optimizer + "' is not sgd or adam");
  if (c.schedule != "constant" && c.schedule != "step" && c.schedule != "cosine")
    fail("schedule '" + c.schedule + "' is not constant, step or cosine");
  if (c.batch == 0) fail("batch must be at least 1");
  if (c.accumulate == 0) fail("accumulate must be at least 1");
  if (c.log_every_steps == 0) fail("log_every_steps must be at least 1");
  if (!(c.lr >= 0.0)) fail("lr must not be negative");
}

/// The stage's settings for a job of `world_size` ranks: with global_batch<N> each rank's batch
/// is N / world_size (rule E026 checks that it divides). transfer_from stays empty: the stage
/// names a registered model (stage_t::transfer::name), which the workspace resolves to a file.
template <class... Ps>
train_config config_from(const trellis::train<Ps...>& stage, std::size_t world_size = 1) {
  using stage_t = trellis::train<Ps...>;
  auto str = [](text_view v) { return std::string(v.data(), v.size()); };
  train_config c;
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

}  // namespace trellis::core
