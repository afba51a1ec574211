// train<model, epochs<N>, optimizer, global_batch<N>, checkpoint_every<N>, transfer_from<"m">,
// experiment<"e">, logs<...>, select_best<"metric">>{.lr = ..., .batch = ...}: the DDP core's
// job. Rules: E003, E017, E018, E020, E026, E031, E034, E035, E038.
#pragma once
#include <cstddef>
#include <cstdint>

#include "trellis/text.hpp"
#include "trellis/models.hpp"
#include "trellis/params/param.hpp"
#include "trellis/params/training.hpp"
#include "trellis/stages/stage.hpp"

namespace trellis {

/// A `train`'s compile-time values, which rules and plan writers read; the defaults stand for a
/// pipeline without one.
struct train_facts {
  param_flags params;
  std::size_t epochs = 1, global_batch = 0, checkpoint_every = 1;
  bool has_global_batch = false, logs_best_metric = true, exportable = true;
  text_view experiment = "trellis", transfer, best_metric = "val_accuracy";
};

/// Metrics every `train` logs, per epoch (val_*), per logging step (train_*, lr,
/// images_per_s), or once after training, on the selected model (test_*, which E038 keeps out
/// of select_best).
inline constexpr text_view builtin_metrics[] = {
    "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "images_per_s",
    "test_loss",  "test_accuracy"};

/// Whether `metric` is one of builtin_metrics or of the `count` names in `extra`. Not a member
/// of `train`, so it is compiled once rather than once per train type.
constexpr bool logs_metric(text_view metric, const text_view* extra, std::size_t count) {
  for (auto m : builtin_metrics)
    if (m == metric) return true;
  for (std::size_t i = 0; i < count; ++i)
    if (extra[i] == metric) return true;
  return false;
}
/// Whether a train given `SelectBest` and `Logs` logs the metric that selects its best
/// checkpoint: evaluated once per pair of parameter types, which trains usually share, rather
/// than once per train type.
template <class SelectBest, class Logs>
inline constexpr bool logs_best_metric_v = logs_metric(SelectBest::name, Logs::names, Logs::size);

/// The learning-rate schedules a `train` accepts (core/train/schedule.hpp).
inline constexpr text_view schedule_names[] = {"constant", "step", "cosine"};

struct no_transfer final {
  using kind = kinds::transfer_from;
  static constexpr text_view name = "";
};

/// What a `train` has of a kind when no parameter of that kind is given.
struct train_defaults {
  using model = models::small_cnn;
  using epochs = trellis::epochs<1>;
  using optimizer = sgd;
  using global_batch = trellis::global_batch<0>;
  using checkpoint_every = trellis::checkpoint_every<1>;
  using transfer_from = no_transfer;
  using experiment = trellis::experiment<"trellis">;
  using logs = trellis::logs<>;
  using select_best = trellis::select_best<"val_accuracy">;
};

template <class... Ps>
struct train {
  static constexpr stage_order order = stage_order::train;
  using accepted_kinds =
      kind_list<kinds::model, kinds::epochs, kinds::optimizer, kinds::global_batch,
                kinds::checkpoint_every, kinds::transfer_from, kinds::experiment, kinds::logs,
                kinds::select_best>;
  using required_kinds = kind_list<kinds::model>;
  using param_kinds = kinds_of<Ps...>;
  /// The parameters given, over the defaults: see given_t.
  using given = given_t<train_defaults, Ps...>;
  using model = typename given::model;
  using optimizer = typename given::optimizer;
  using transfer = typename given::transfer_from;
  using extra_metrics = typename given::logs;
  // One constant holds every compile-time value: a static member each would be declared, and
  // given a symbol, again for every train type.
  static constexpr train_facts facts{
      .params = param_flags_v<accepted_kinds, required_kinds, param_kinds>,
      .epochs = given::epochs::value,
      .global_batch = given::global_batch::value,
      .checkpoint_every = given::checkpoint_every::value,
      .has_global_batch = has_kind_v<kinds::global_batch, param_kinds>,
      .logs_best_metric = logs_best_metric_v<typename given::select_best, extra_metrics>,
      .exportable = model::onnx_exportable,
      .experiment = given::experiment::name,
      .transfer = transfer::name,
      .best_metric = given::select_best::name};

  double lr = 0.01;
  std::size_t batch = 32;        ///< per rank; with global_batch<N> it is N / world size
  std::uint64_t seed = 0;
  double momentum = 0.9;         ///< sgd only
  double weight_decay = 0.0;
  text schedule = "cosine";  ///< "constant", "step" or "cosine"
  std::size_t accumulate = 1;    ///< micro-batches per optimizer step (no_sync in between)
  bool freeze_backbone = false;  ///< with transfer_from: train only the new head
  std::size_t transfer_version = 0;  ///< with transfer_from: the registered version; 0: latest
  std::size_t threads = 1;       ///< intra-op threads per rank

  template <class Self, class Fields>
  static void fields(Self& self, Fields& f) {
    f.fixed("model", model::name);
    f.fixed("epochs", facts.epochs);
    f.fixed("optimizer", optimizer::name);
    if constexpr (facts.has_global_batch) f.fixed("global_batch", facts.global_batch);
    f.fixed("checkpoint_every", facts.checkpoint_every);
    f.fixed("transfer_from", transfer::name);
    f.fixed("experiment", facts.experiment);
    f.fixed("select_best", facts.best_metric);
    f.setting("lr", self.lr, at_least(0));
    // global_batch<N> sets the batch of each rank (N / world size; the plan records it).
    if constexpr (facts.has_global_batch)
      f.inapplicable("batch", "global_batch<N> sets each rank's batch (N / world size)");
    else
      f.setting("batch", self.batch, between(1, 1 << 20));
    f.setting("seed", self.seed);
    if constexpr (__is_same(optimizer, sgd))
      f.setting("momentum", self.momentum, at_least_below(0, 1));
    else
      f.inapplicable("momentum", "the optimizer has no momentum (sgd only)");
    f.setting("weight_decay", self.weight_decay, between(0, 1));
    f.setting("schedule", self.schedule, one_of(schedule_names));
    f.setting("accumulate", self.accumulate, between(1, 4096));
    f.setting("freeze_backbone", self.freeze_backbone);
    if constexpr (!transfer::name.empty())
      f.setting("transfer_version", self.transfer_version, between(0, 1e9));
    f.setting("threads", self.threads, between(0, 1024));
  }
};

}  // namespace trellis
