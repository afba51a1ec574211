// train_config: every setting the trainer reads, as plain run-time values, and check_config,
// which rejects the settings that make no sense.
#pragma once
#include <c10/core/Device.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "trellis/core/train/metric_record.hpp"

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

}  // namespace trellis::core
