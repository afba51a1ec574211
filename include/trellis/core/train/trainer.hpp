// train_rank: one rank's whole training run: optimizer and schedule, DDP gradient sync,
// accumulation, per-epoch validation, metrics and checkpoints from rank 0, resume from the run's
// last checkpoint, the final outputs/model.pt, and the test split on those weights. Every rank of
// a job calls it alike; each step is a function below (the repeating epoch in epoch.hpp).
#pragma once
#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "trellis/core/data/loader.hpp"
#include "trellis/core/ddp/broadcast.hpp"
#include "trellis/core/ddp/process_group.hpp"
#include "trellis/core/ddp/reducer.hpp"
#include "trellis/core/models/classifier.hpp"
#include "trellis/core/models/transfer.hpp"
#include "trellis/core/process/rank_process.hpp"
#include "trellis/core/serialization/state_dict.hpp"
#include "trellis/core/train/checkpoint.hpp"
#include "trellis/core/train/config.hpp"
#include "trellis/core/train/epoch.hpp"
#include "trellis/core/train/evaluate.hpp"
#include "trellis/core/train/metrics_log.hpp"
#include "trellis/core/train/model_summary.hpp"
#include "trellis/core/train/optimizer.hpp"
#include "trellis/core/train/progress.hpp"
#include "trellis/core/train/rng_state.hpp"
#include "trellis/core/train/run_files.hpp"

namespace trellis::core {

namespace train_detail {

/// Sets up the model before the reducer captures it: backbone, freezing, device, and the
/// resumed checkpoint's weights (the same file on every rank).
inline std::optional<checkpoint> prepare_model(classifier& model, const train_config& config,
                                               const run_files& files) {
  if (!config.transfer_from.empty()) load_backbone(model, config.transfer_from);
  if (config.freeze_backbone) model.freeze_backbone();
  model.to(config.device);
  if (!std::filesystem::exists(files.last)) return std::nullopt;
  auto resumed = read_checkpoint(files.last);
  load_state_dict(model, resumed.model, {.source = files.last.string()});
  return resumed;
}

/// The random state row of this rank; a checkpoint from another world size has none, and the
/// rank keeps its fresh seed.
inline void restore_rank_rng(const checkpoint& c, int rank, int world, c10::Device device) {
  if (c.rng.dim() == 2 && c.rng.size(0) == world) restore_rng_state(c.rng[rank], device);
}

/// With more than one rank: the reducer, which broadcasts rank 0's parameters and buffers now
/// and reduces gradients in every synced backward.
inline void start_gradient_sync(rank_run& r) {
  if (!distributed(r.ranks)) return;
  r.sync.emplace(r.model, r.group);
  const char* path = r.sync->shares_host_memory()                   ? "shared memory"
                     : r.ranks->kind() == ddp::backend_kind::nccl ? "NCCL"
                                                                  : "Gloo";
  std::cout << fmt::format("[trellis] rank {}: {} gradient bucket(s) reduced through {}\n",
                           r.rank, r.sync->bucket_count(), path)
            << std::flush;
}

/// Continues from the resumed checkpoint, if any: optimizer state, random state, counters; and
/// on rank 0 the metrics file and the best epoch so far.
inline void resume_from(rank_run& r, const std::optional<checkpoint>& resumed) {
  if (resumed) {
    load_optimizer(*r.optimizer, *resumed, r.config.device);
    restore_rank_rng(*resumed, r.rank, r.world, r.config.device);
    r.result.resumed_epochs = r.result.epochs = resumed->info.epoch;
    r.result.steps = resumed->info.step;
    r.result.val_loss = resumed->info.val_loss;
    r.result.val_accuracy = resumed->info.val_accuracy;
  }
  r.first_step = r.result.steps;
  if (!r.leader) return;
  r.metrics.emplace(r.config.run_dir, r.result.resumed_epochs, r.result.steps,
                    r.config.forward_metrics);
  if (resumed && std::filesystem::exists(r.files.best)) {
    auto earlier = read_checkpoint(r.files.best);
    if (earlier.info.epoch <= r.result.resumed_epochs) r.best.adopt(std::move(earlier));
  }
}

/// Rank 0 writes outputs/model.pt: the best epoch's weights under select_best, else the last
/// epoch's. Returns the summary of what it wrote (the selected epoch and its metrics).
inline model_summary save_selected_model(rank_run& r) {
  model_summary summary{r.config.select_best, r.result.epochs, r.result.epochs, r.result.steps,
                        {{"val_loss", r.result.val_loss},
                         {"val_accuracy", r.result.val_accuracy}},
                        r.config.class_names, {}};
  if (!r.leader) return summary;
  std::filesystem::create_directories(r.files.model.parent_path());
  if (const auto* weights = r.best.weights()) {
    save_state_dict(*weights, r.files.model);
    summary.selected_epoch = r.best.epoch();
    summary.metrics = {{"val_loss", r.best.info().val_loss},
                       {"val_accuracy", r.best.info().val_accuracy}};
  } else {
    save_state_dict(r.model, r.files.model);
  }
  r.result.model_epoch = summary.selected_epoch;
  r.result.model_file = r.files.model;
  return summary;
}

/// The test split, once, on exactly the selected weights: every rank takes them from rank 0.
inline void test_selected_model(rank_run& r, loader& test_data, model_summary& summary) {
  if (r.leader && r.best.weights()) load_state_dict(r.model, *r.best.weights());
  if (r.sync) {
    ddp::broadcast_coalesced(*r.ranks, r.model.parameters(), 0, "model broadcast before testing");
    ddp::broadcast_coalesced(*r.ranks, r.model.buffers(), 0, "buffer broadcast before testing");
  }
  const auto tested = evaluate(r.model, test_data, r.ranks, r.config.device, 0,
                               static_cast<std::int64_t>(r.config.class_names.size()));
  summary.metrics["test_loss"] = tested.loss;
  summary.metrics["test_accuracy"] = tested.accuracy;
  summary.confusion = tested.confusion;
  if (!r.leader) return;
  r.metrics->write(r.result.epochs, r.result.steps, "test_loss", tested.loss);
  r.metrics->write(r.result.epochs, r.result.steps, "test_accuracy", tested.accuracy);
  if (r.report)
    r.report(progress{.epoch = r.result.epochs,
                      .epochs = r.config.epochs,
                      .test = epoch_summary{tested.loss, tested.accuracy, 0.0}});
}
}  // namespace train_detail

/// Trains `model` for config.epochs epochs on this rank's loaders (built with config.batch and
/// this rank's rank/world size; the val loader unshuffled). `group` may be null or of size 1
/// for a single process. If run_dir/checkpoints/last.pt exists, every rank resumes from it at
/// the next epoch, reproducing the uninterrupted run. Rank 0 writes run_dir/metrics.jsonl,
/// the checkpoints, run_dir/outputs/model.pt (the weights of the best epoch under
/// config.select_best, val_accuracy or val_loss, else of the last epoch) and beside it
/// summary.json (that epoch and its metrics, and the test split's). `report` is called on
/// rank 0 at each logging step and after each epoch's validation. A loss that stops being
/// finite throws training_diverged on every rank, before any model.pt is written.
inline train_result train_rank(classifier& model, loader& train_data, loader& val_data,
                               std::shared_ptr<ddp::process_group> group,
                               const train_config& config,
                               progress_sink report = print_progress(),
                               loader* test_data = nullptr) {
  using namespace train_detail;
  check_config(config);
  rank_run r{model, std::move(group), config, std::move(report)};
  process::prepare_rank_process(config.threads);
  torch::manual_seed(config.seed + static_cast<std::uint64_t>(r.rank));  // dropout differs by rank

  const auto resumed = prepare_model(model, config, r.files);
  start_gradient_sync(r);
  r.optimizer = make_optimizer(config, model.parameters());
  resume_from(r, resumed);

  r.steps_per_epoch = (train_data.batches_per_epoch() + config.accumulate - 1) / config.accumulate;
  r.total_steps = r.steps_per_epoch * config.epochs;
  r.started = train_clock::now();
  for (std::size_t epoch = r.result.resumed_epochs; epoch < config.epochs; ++epoch) {
    const auto epoch_started = train_clock::now();
    const std::size_t skipped_before = train_data.skipped() + val_data.skipped();
    train_epoch(r, train_data, epoch);
    validate_epoch(r, train_data, val_data, epoch, skipped_before, epoch_started);
  }

  auto summary = save_selected_model(r);
  if (test_data) test_selected_model(r, *test_data, summary);
  if (r.leader) write_model_summary(r.files.summary, summary);
  return r.result;
}

inline train_result train_rank(const std::shared_ptr<classifier>& model, loader& train_data,
                               loader& val_data, std::shared_ptr<ddp::process_group> group,
                               const train_config& config,
                               progress_sink report = print_progress(),
                               loader* test_data = nullptr) {
  if (!model) throw std::invalid_argument("[trellis] train: no model");
  return train_rank(*model, train_data, val_data, std::move(group), config, std::move(report),
                    test_data);
}

}  // namespace trellis::core
