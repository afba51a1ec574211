// train_rank: one rank's whole training run: optimizer and schedule, DDP gradient sync,
// accumulation, per-epoch validation, metrics and checkpoints from rank 0, resume from the run's
// last checkpoint, and the final outputs/model.pt. Every rank of a job calls it alike.
#pragma once
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "trellis/core/data/loader.hpp"
#include "trellis/core/ddp/broadcast.hpp"
#include "trellis/core/ddp/process_group.hpp"
#include "trellis/core/ddp/reducer.hpp"
#include "trellis/core/models/classifier.hpp"
#include "trellis/core/models/transfer.hpp"
#include "trellis/core/process/rank_process.hpp"
#include "trellis/core/serialization/state_dict.hpp"
#include "trellis/core/train/best_model.hpp"
#include "trellis/core/train/checkpoint.hpp"
#include "trellis/core/train/collectives.hpp"
#include "trellis/core/train/config.hpp"
#include "trellis/core/train/evaluate.hpp"
#include "trellis/core/train/metrics_log.hpp"
#include "trellis/core/train/model_summary.hpp"
#include "trellis/core/train/optimizer.hpp"
#include "trellis/core/train/progress.hpp"
#include "trellis/core/train/rng_state.hpp"
#include "trellis/core/train/run_files.hpp"
#include "trellis/core/train/schedule.hpp"
#include "trellis/core/train/step.hpp"

namespace trellis::core {

struct train_result {
  std::size_t resumed_epochs = 0;  ///< epochs the checkpoint it resumed from held; 0: fresh
  std::size_t epochs = 0;          ///< epochs completed, resumed ones included
  std::size_t steps = 0;           ///< optimizer steps completed, resumed ones included
  double val_loss = std::numeric_limits<double>::quiet_NaN();  ///< after the last epoch
  double val_accuracy = std::numeric_limits<double>::quiet_NaN();
  std::size_t model_epoch = 0;       ///< the epoch whose weights model.pt holds (from 1)
  std::filesystem::path model_file;  ///< outputs/model.pt on rank 0; empty on the others
};

namespace train_detail {
using train_clock = std::chrono::steady_clock;

inline double seconds_since(train_clock::time_point start) {
  return std::chrono::duration<double>(train_clock::now() - start).count();
}

/// Train loss, accuracy and throughput since the last report.
struct report_window {
  double loss_sum = 0.0;
  std::size_t correct = 0;
  std::size_t samples = 0;
  train_clock::time_point start = train_clock::now();
};

/// Up to `count` batches, fewer at the end of the epoch.
inline std::vector<batch> next_batches(loader& data, std::size_t count) {
  std::vector<batch> out;
  for (std::size_t i = 0; i < count; ++i) {
    auto b = data.next();
    if (!b) break;
    out.push_back(std::move(*b));
  }
  return out;
}

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
}  // namespace train_detail

/// Trains `model` for config.epochs epochs on this rank's loaders (built with config.batch and
/// this rank's rank/world size; the val loader unshuffled). `group` may be null or of size 1
/// for a single process. If run_dir/checkpoints/last.pt exists, every rank resumes from it at
/// the next epoch, reproducing the uninterrupted run. Rank 0 writes run_dir/metrics.jsonl,
/// the checkpoints, run_dir/outputs/model.pt (the weights of the best epoch under
/// config.select_best, val_accuracy or val_loss, else of the last epoch) and beside it
/// summary.json (that epoch and its metrics). `report` is called on
/// rank 0 at each logging step and after each epoch's validation.
inline train_result train_rank(classifier& model, loader& train_data, loader& val_data,
                               std::shared_ptr<ddp::process_group> group,
                               const train_config& config,
                               progress_sink report = print_progress(),
                               loader* test_data = nullptr) {
  using namespace train_detail;
  check_config(config);
  ddp::process_group* const ranks = group.get();
  const int rank = ranks ? ranks->rank() : 0, world = ranks ? ranks->size() : 1;
  const bool leader = rank == 0;
  process::prepare_rank_process(config.threads);
  torch::manual_seed(config.seed + static_cast<std::uint64_t>(rank));  // dropout differs by rank

  const run_files files{config.run_dir};
  const auto resumed = prepare_model(model, config, files);
  std::optional<ddp::reducer> sync;  // broadcasts rank 0's parameters and buffers
  if (distributed(ranks)) {
    sync.emplace(model, group);
    std::cout << "[trellis] rank " << rank << ": " << sync->bucket_count()
              << " gradient bucket(s) reduced through "
              << (sync->shares_host_memory()                 ? "shared memory"
                  : ranks->kind() == ddp::backend_kind::nccl ? "NCCL"
                                                             : "Gloo")
              << std::endl;
  }
  const auto optimizer = make_optimizer(config, model.parameters());
  train_result result;
  if (resumed) {
    load_optimizer(*optimizer, *resumed, config.device);
    restore_rank_rng(*resumed, rank, world, config.device);
    result.resumed_epochs = result.epochs = resumed->info.epoch;
    result.steps = resumed->info.step;
    result.val_loss = resumed->info.val_loss;
    result.val_accuracy = resumed->info.val_accuracy;
  }

  // Only rank 0 writes, so only it tracks the best epoch (from globally reduced metrics).
  std::optional<metrics_log> metrics;
  best_model best{config.select_best};
  if (leader) {
    metrics.emplace(config.run_dir, result.resumed_epochs, result.steps, config.forward_metrics);
    if (resumed && std::filesystem::exists(files.best)) {
      auto earlier = read_checkpoint(files.best);
      if (earlier.info.epoch <= result.resumed_epochs) best.adopt(std::move(earlier));
    }
  }

  const std::size_t steps_per_epoch =
      (train_data.batches_per_epoch() + config.accumulate - 1) / config.accumulate;
  const std::size_t total_steps = steps_per_epoch * config.epochs;
  const auto started = train_clock::now();
  double validation_seconds = 0.0;
  std::size_t& step = result.steps;
  const std::size_t first_step = step;

  for (std::size_t epoch = result.resumed_epochs; epoch < config.epochs; ++epoch) {
    const auto epoch_started = train_clock::now();
    const std::size_t skipped_before = train_data.skipped() + val_data.skipped();
    model.train();
    train_data.set_epoch(epoch);
    report_window window;
    for (std::size_t s = 0; s < steps_per_epoch; ++s) {
      const double lr = learning_rate(config, {epoch, step, total_steps});
      set_learning_rate(*optimizer, lr);
      const auto done = train_step(model, *optimizer, sync ? &*sync : nullptr,
                                   next_batches(train_data, config.accumulate), config.device);
      ++step;
      window.loss_sum += done.loss_sum;
      window.correct += done.correct;
      window.samples += done.samples;
      if ((s + 1) % config.log_every_steps != 0 && s + 1 != steps_per_epoch) continue;
      // A collective at the same steps on every rank: the train loss and accuracy of all ranks,
      // and each rank's own throughput in its slot (a rank slowed by its host shows there).
      const double seconds = seconds_since(window.start);
      std::vector<double> values(3 + static_cast<std::size_t>(world), 0.0);
      values[0] = window.loss_sum;
      values[1] = static_cast<double>(window.samples);
      values[2] = static_cast<double>(window.correct);
      values[3 + static_cast<std::size_t>(rank)] =
          seconds > 0 ? static_cast<double>(window.samples) / seconds : 0.0;
      const auto sums = sum_over_ranks(ranks, std::move(values), "train loss");
      window = {};
      if (!leader) continue;
      progress p{
          .epoch = epoch + 1, .epochs = config.epochs, .step = s + 1, .steps = steps_per_epoch};
      p.loss = sums[1] > 0 ? sums[0] / sums[1] : std::numeric_limits<double>::quiet_NaN();
      p.images_per_s = seconds > 0 ? sums[1] / seconds : 0.0;
      const double per_step =
          (seconds_since(started) - validation_seconds) / static_cast<double>(step - first_step);
      p.eta_seconds = per_step * static_cast<double>(total_steps - step);
      metrics->write(epoch + 1, step, "train_loss", p.loss);
      metrics->write(epoch + 1, step, "train_accuracy",
                     sums[1] > 0 ? sums[2] / sums[1] : std::numeric_limits<double>::quiet_NaN());
      metrics->write(epoch + 1, step, "lr", lr);
      metrics->write(epoch + 1, step, "images_per_s", p.images_per_s);
      for (std::size_t r = 0; r < static_cast<std::size_t>(world); ++r)
        metrics->write(epoch + 1, step, "rank_images_per_s", sums[3 + r], r);
      if (report) report(p);
    }

    const auto validation_started = train_clock::now();
    // Every rank validates rank 0's model: the BatchNorm statistics a checkpoint keeps.
    if (sync)
      ddp::broadcast_coalesced(*ranks, model.buffers(), 0, "buffer broadcast before validation");
    const auto val = evaluate(model, val_data, ranks, config.device, epoch);
    const double skipped = sum_over_ranks(
        ranks, {static_cast<double>(train_data.skipped() + val_data.skipped() - skipped_before)},
        "skipped samples")[0];
    validation_seconds += seconds_since(validation_started);
    const checkpoint_info info{epoch + 1, step, train_data.state(), val.loss, val.accuracy};
    result.epochs = epoch + 1;
    result.val_loss = val.loss;
    result.val_accuracy = val.accuracy;

    const bool checkpoint_due =
        config.checkpoint_every > 0 && (epoch + 1) % config.checkpoint_every == 0;
    // Gathered on every rank (a collective), written by rank 0.
    const auto rng = checkpoint_due
                         ? gather_rows(ranks, rng_state(config.device), "random state gather")
                         : torch::Tensor{};
    if (!leader) continue;
    metrics->write(epoch + 1, step, "val_loss", val.loss);
    metrics->write(epoch + 1, step, "val_accuracy", val.accuracy);
    metrics->write(epoch + 1, step, "skipped_samples", skipped);
    metrics->end_epoch();
    if (best.offer(info, model) && config.checkpoint_every > 0)
      write_checkpoint(files.best, model, *optimizer, info, rng_state(config.device).unsqueeze(0));
    if (checkpoint_due) write_checkpoint(files.last, model, *optimizer, info, rng);
    if (report) {
      progress p{.epoch = epoch + 1,
                 .epochs = config.epochs,
                 .step = steps_per_epoch,
                 .steps = steps_per_epoch};
      p.end_of_epoch = epoch_summary{val.loss, val.accuracy, seconds_since(epoch_started)};
      report(p);
    }
  }

  // The model is the best epoch's weights (rank 0 kept them), else the last epoch's.
  model_summary summary{config.select_best, result.epochs, result.epochs, result.steps,
                        {{"val_loss", result.val_loss}, {"val_accuracy", result.val_accuracy}},
                        config.class_names, {}};
  if (leader) {
    std::filesystem::create_directories(files.model.parent_path());
    if (const auto* weights = best.weights()) {
      save_state_dict(*weights, files.model);
      summary.selected_epoch = best.epoch();
      summary.metrics = {{"val_loss", best.info().val_loss},
                         {"val_accuracy", best.info().val_accuracy}};
    } else {
      save_state_dict(model, files.model);
    }
    result.model_epoch = summary.selected_epoch;
    result.model_file = files.model;
  }
  // The test split, once, on exactly those weights: every rank takes them from rank 0.
  if (test_data) {
    if (leader && best.weights()) load_state_dict(model, *best.weights());
    if (sync) {
      ddp::broadcast_coalesced(*ranks, model.parameters(), 0, "model broadcast before testing");
      ddp::broadcast_coalesced(*ranks, model.buffers(), 0, "buffer broadcast before testing");
    }
    const auto tested = evaluate(model, *test_data, ranks, config.device, 0,
                                 static_cast<std::int64_t>(config.class_names.size()));
    summary.metrics["test_loss"] = tested.loss;
    summary.metrics["test_accuracy"] = tested.accuracy;
    summary.confusion = tested.confusion;
    if (leader) {
      metrics->write(result.epochs, result.steps, "test_loss", tested.loss);
      metrics->write(result.epochs, result.steps, "test_accuracy", tested.accuracy);
      if (report) report(progress{.epoch = result.epochs, .epochs = config.epochs,
                                  .test = epoch_summary{tested.loss, tested.accuracy, 0.0}});
    }
  }
  if (leader) write_model_summary(files.summary, summary);
  return result;
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
