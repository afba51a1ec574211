// train_step: one optimizer step over `accumulate` micro-batches. All but the last run under the
// reducer's no_sync, the loss is normalised by the step's sample count, and a rank whose batch is
// empty (skip_corrupt) still joins every collective, contributing a zero gradient.
#pragma once
#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "trellis/core/data/batch.hpp"
#include "trellis/core/ddp/reducer.hpp"
#include "trellis/core/models/classifier.hpp"

namespace trellis::core {

struct step_totals {
  double loss_sum = 0.0;  ///< summed per-sample cross-entropy of this rank's micro-batches
  std::size_t correct = 0;  ///< samples whose top logit was their label (in train mode)
  std::size_t samples = 0;
};

/// `sync` is null on one rank. Dividing each micro-batch's summed loss by the step's sample count
/// makes `accumulate` x batch b the same gradient as one batch of accumulate x b; the reducer then
/// averages over ranks, as PyTorch DDP does.
inline step_totals train_step(classifier& model, torch::optim::Optimizer& optimizer,
                              ddp::reducer* sync, const std::vector<batch>& micro_batches,
                              c10::Device device) {
  step_totals totals;
  for (const auto& b : micro_batches) totals.samples += static_cast<std::size_t>(b.labels.size(0));
  optimizer.zero_grad();
  for (std::size_t i = 0; i < micro_batches.size(); ++i) {
    std::optional<ddp::reducer::no_sync_guard> local;
    if (sync && i + 1 < micro_batches.size()) local.emplace(sync->no_sync());
    // Every rank calls it in every micro-batch: in the synced one it broadcasts buffers.
    if (sync) sync->before_forward();
    const auto& b = micro_batches[i];
    if (b.labels.size(0) == 0) continue;  // no forward: BatchNorm cannot take an empty batch
    const auto labels = b.labels.to(device);
    const auto logits = model.forward(b.images.to(device));
    const auto loss_sum = torch::nn::functional::cross_entropy(
        logits, labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
    (loss_sum / static_cast<double>(totals.samples)).backward();
    totals.loss_sum += loss_sum.item<double>();
    totals.correct +=
        static_cast<std::size_t>(logits.argmax(1).eq(labels).sum().item<std::int64_t>());
  }
  // A no-op after a synced backward (it waited already); joins the collectives otherwise.
  if (sync) sync->finalize();
  optimizer.step();
  return totals;
}

}  // namespace trellis::core
