// One epoch of a rank's run, the part of train_rank that repeats: the train steps with their
// logging collective, then validation with its metrics and checkpoints. rank_run is what the
// steps of train_rank share.
#pragma once
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstddef>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "trellis/core/data/loader.hpp"
#include "trellis/core/ddp/broadcast.hpp"
#include "trellis/core/ddp/process_group.hpp"
#include "trellis/core/ddp/reducer.hpp"
#include "trellis/core/models/classifier.hpp"
#include "trellis/core/train/best_model.hpp"
#include "trellis/core/train/checkpoint.hpp"
#include "trellis/core/train/collectives.hpp"
#include "trellis/core/train/config.hpp"
#include "trellis/core/train/evaluate.hpp"
#include "trellis/core/train/metrics_log.hpp"
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

/// A loss that is no longer finite: every later step would only spread it, and a model.pt of
/// NaN weights must never look like a result. Every rank throws it alike (the loss is reduced).
struct training_diverged : std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace train_detail {
using train_clock = std::chrono::steady_clock;

inline double seconds_since(train_clock::time_point start) {
  return std::chrono::duration<double>(train_clock::now() - start).count();
}

/// What the steps of one rank's run share. Only rank 0 (the leader) writes, so only it has
/// `metrics` and tracks the best epoch (from globally reduced metrics).
struct rank_run {
  rank_run(classifier& m, std::shared_ptr<ddp::process_group> g, const train_config& c,
           progress_sink r)
      : model{m},
        group{std::move(g)},
        ranks{group.get()},
        config{c},
        report{std::move(r)},
        rank{ranks ? ranks->rank() : 0},
        world{ranks ? ranks->size() : 1},
        leader{rank == 0},
        files{c.run_dir},
        best{c.select_best} {}

  classifier& model;
  std::shared_ptr<ddp::process_group> group;
  ddp::process_group* ranks;
  const train_config& config;
  progress_sink report;
  int rank, world;
  bool leader;
  run_files files;
  std::optional<ddp::reducer> sync;  // broadcasts rank 0's parameters and buffers
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::optional<metrics_log> metrics;
  best_model best;
  train_result result;
  std::size_t steps_per_epoch = 0, total_steps = 0;
  std::size_t first_step = 0;  // of this process: the ETA counts only steps it took
  train_clock::time_point started = train_clock::now();
  double validation_seconds = 0.0;
};

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

/// Throws training_diverged, on every rank alike, when a reduced loss is NaN or infinite.
inline void check_finite_loss(double loss, const char* which,
                              std::size_t epoch, std::size_t step, double lr) {
  if (std::isfinite(loss)) return;
  throw training_diverged(fmt::format(
      "[trellis] train: the {} is {} at epoch {}, step {} (learning rate {:.3g}): training "
      "diverged, and no model is written from it. Fix: lower train.lr, or check the data and "
      "its normalization",
      which, std::isnan(loss) ? "NaN" : loss > 0 ? "inf" : "-inf", epoch, step, lr));
}

/// The logging step's collective, on every rank at the same steps: the train loss and
/// accuracy of all ranks, and each rank's own throughput in its slot (a rank slowed by its
/// host shows there). Rank 0 writes them and reports progress.
inline void log_train_window(rank_run& r, report_window& window, std::size_t epoch,
                             std::size_t step_in_epoch, double lr) {
  const std::size_t step = r.result.steps;
  const double seconds = seconds_since(window.start);
  std::vector<double> values(3 + static_cast<std::size_t>(r.world), 0.0);
  values[0] = window.loss_sum;
  values[1] = static_cast<double>(window.samples);
  values[2] = static_cast<double>(window.correct);
  values[3 + static_cast<std::size_t>(r.rank)] =
      seconds > 0 ? static_cast<double>(window.samples) / seconds : 0.0;
  const auto sums = sum_over_ranks(r.ranks, std::move(values), "train loss");
  window = {};
  const double loss = sums[1] > 0 ? sums[0] / sums[1] : std::numeric_limits<double>::quiet_NaN();
  if (sums[1] > 0) check_finite_loss(loss, "training loss", epoch + 1, step, lr);
  if (!r.leader) return;
  progress p{.epoch = epoch + 1,
             .epochs = r.config.epochs,
             .step = step_in_epoch,
             .steps = r.steps_per_epoch};
  p.loss = loss;
  p.images_per_s = seconds > 0 ? sums[1] / seconds : 0.0;
  const double per_step = (seconds_since(r.started) - r.validation_seconds) /
                          static_cast<double>(step - r.first_step);
  p.eta_seconds = per_step * static_cast<double>(r.total_steps - step);
  r.metrics->write(epoch + 1, step, "train_loss", p.loss);
  r.metrics->write(epoch + 1, step, "train_accuracy",
                   sums[1] > 0 ? sums[2] / sums[1] : std::numeric_limits<double>::quiet_NaN());
  r.metrics->write(epoch + 1, step, "lr", lr);
  r.metrics->write(epoch + 1, step, "images_per_s", p.images_per_s);
  for (std::size_t k = 0; k < static_cast<std::size_t>(r.world); ++k)
    r.metrics->write(epoch + 1, step, "rank_images_per_s", sums[3 + k], k);
  if (r.report) r.report(p);
}

/// The epoch's optimizer steps, each over config.accumulate micro-batches, logged every
/// config.log_every_steps steps and at the epoch's last.
inline void train_epoch(rank_run& r, loader& train_data, std::size_t epoch) {
  r.model.train();
  train_data.set_epoch(epoch);
  report_window window;
  for (std::size_t s = 0; s < r.steps_per_epoch; ++s) {
    const double lr = learning_rate(r.config, {epoch, r.result.steps, r.total_steps});
    set_learning_rate(*r.optimizer, lr);
    const auto done = train_step(r.model, *r.optimizer, r.sync ? &*r.sync : nullptr,
                                 next_batches(train_data, r.config.accumulate), r.config.device);
    ++r.result.steps;
    window.loss_sum += done.loss_sum;
    window.correct += done.correct;
    window.samples += done.samples;
    if ((s + 1) % r.config.log_every_steps == 0 || s + 1 == r.steps_per_epoch)
      log_train_window(r, window, epoch, s + 1, lr);
  }
}

/// Validates rank 0's model on every rank's shard, then rank 0 logs the epoch, offers it to
/// select_best and writes the checkpoints that are due.
inline void validate_epoch(rank_run& r, loader& train_data, loader& val_data, std::size_t epoch,
                           std::size_t skipped_before, train_clock::time_point epoch_started) {
  const auto validation_started = train_clock::now();
  // Every rank validates rank 0's model: the BatchNorm statistics a checkpoint keeps.
  if (r.sync)
    ddp::broadcast_coalesced(*r.ranks, r.model.buffers(), 0, "buffer broadcast before validation");
  const auto val = evaluate(r.model, val_data, r.ranks, r.config.device, epoch);
  const double skipped = sum_over_ranks(
      r.ranks, {static_cast<double>(train_data.skipped() + val_data.skipped() - skipped_before)},
      "skipped samples")[0];
  r.validation_seconds += seconds_since(validation_started);
  const std::size_t step = r.result.steps;
  if (val.count > 0)  // a validation without a sample has no loss to judge
    check_finite_loss(val.loss, "validation loss", epoch + 1, step,
                      learning_rate(r.config, {epoch, step, r.total_steps}));
  const checkpoint_info info{epoch + 1, step, train_data.state(), val.loss, val.accuracy};
  r.result.epochs = epoch + 1;
  r.result.val_loss = val.loss;
  r.result.val_accuracy = val.accuracy;

  const bool checkpoint_due =
      r.config.checkpoint_every > 0 && (epoch + 1) % r.config.checkpoint_every == 0;
  // Gathered on every rank (a collective), written by rank 0.
  const auto rng = checkpoint_due
                       ? gather_rows(r.ranks, rng_state(r.config.device), "random state gather")
                       : torch::Tensor{};
  if (!r.leader) return;
  r.metrics->write(epoch + 1, step, "val_loss", val.loss);
  r.metrics->write(epoch + 1, step, "val_accuracy", val.accuracy);
  r.metrics->write(epoch + 1, step, "skipped_samples", skipped);
  r.metrics->end_epoch();
  if (r.best.offer(info, r.model) && r.config.checkpoint_every > 0)
    write_checkpoint(r.files.best, r.model, *r.optimizer, info,
                     rng_state(r.config.device).unsqueeze(0));
  if (checkpoint_due) write_checkpoint(r.files.last, r.model, *r.optimizer, info, rng);
  if (r.report) {
    progress p{.epoch = epoch + 1,
               .epochs = r.config.epochs,
               .step = r.steps_per_epoch,
               .steps = r.steps_per_epoch};
    p.end_of_epoch = epoch_summary{val.loss, val.accuracy, seconds_since(epoch_started)};
    r.report(p);
  }
}

}  // namespace train_detail
}  // namespace trellis::core
