// evaluate: the model's loss and top-1 accuracy on a validation loader, each rank on its shard,
// summed over ranks so every rank returns the same global numbers. The sampler's padding (the
// repeated samples that even out the shards) is left out, so each sample counts once.
#pragma once
#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "trellis/core/data/error.hpp"
#include "trellis/core/data/loader.hpp"
#include "trellis/core/ddp/process_group.hpp"
#include "trellis/core/models/classifier.hpp"
#include "trellis/core/train/collectives.hpp"

namespace trellis::core {

struct evaluation {
  double loss = 0.0;      ///< mean cross-entropy
  double accuracy = 0.0;  ///< top-1
  std::size_t count = 0;  ///< samples evaluated, all ranks
  /// When asked for: how often class t was predicted as p, at [t * classes + p], all ranks.
  std::vector<std::int64_t> confusion;
};

namespace train_detail {
/// Whether this rank's last sample of an epoch is padding that a batch `b` still holds. Only
/// the last sample of a shard can be padding; with skip_corrupt it may have been skipped.
inline bool holds_padding(const loader& val, const batch& b) {
  const auto& s = val.sampler();
  const bool padded = s.rank() + (s.size() - 1) * s.world_size() >= s.dataset_size();
  if (!padded || b.images.size(0) == 0) return false;
  if (b.skipped == 0) return true;
  try {  // the padding repeats a sample: it is in the batch unless that sample is corrupt
    (void)val.source().image(s.indices().back());
    return true;
  } catch (const data_error&) {
    return false;
  }
}
}  // namespace train_detail

/// Runs in eval mode without gradients; leaves the model in eval mode. With `confusion_classes`,
/// also counts each (true, predicted) class pair.
inline evaluation evaluate(classifier& model, loader& val, ddp::process_group* group,
                           c10::Device device, std::uint64_t epoch = 0,
                           std::int64_t confusion_classes = 0) {
  model.eval();
  const torch::NoGradGuard no_grad;
  val.set_epoch(epoch);
  double loss_sum = 0.0, correct = 0.0, count = 0.0;
  const std::int64_t k2 = confusion_classes * confusion_classes;
  auto pairs = torch::zeros({k2}, torch::kInt64);
  const std::size_t batches = val.batches_per_epoch();
  for (std::size_t k = 0; k < batches; ++k) {
    auto b = val.next();
    if (!b) break;
    auto images = b->images, labels = b->labels;
    if (k + 1 == batches && train_detail::holds_padding(val, *b)) {
      images = images.narrow(0, 0, images.size(0) - 1);
      labels = labels.narrow(0, 0, labels.size(0) - 1);
    }
    if (images.size(0) == 0) continue;
    images = images.to(device);
    labels = labels.to(device);
    const auto logits = model.forward(images);
    loss_sum +=
        torch::nn::functional::cross_entropy(
            logits, labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
            .item<double>();
    const auto predicted = logits.argmax(1);
    correct += predicted.eq(labels).sum().item<double>();
    count += static_cast<double>(labels.size(0));
    if (k2 > 0)
      pairs += torch::bincount((labels * confusion_classes + predicted).to(torch::kCPU), {}, k2);
  }
  std::vector<double> sums{loss_sum, correct, count};
  for (std::int64_t i = 0; i < k2; ++i)
    sums.push_back(static_cast<double>(pairs[i].item<std::int64_t>()));
  const auto total = train_detail::sum_over_ranks(group, std::move(sums), "evaluation sums");
  const double n = total[2];
  const double none = std::numeric_limits<double>::quiet_NaN();  // no sample: nothing to report
  evaluation e{n > 0 ? total[0] / n : none, n > 0 ? total[1] / n : none,
               static_cast<std::size_t>(n), {}};
  for (std::size_t i = 3; i < total.size(); ++i)
    e.confusion.push_back(static_cast<std::int64_t>(total[i]));
  return e;
}

}  // namespace trellis::core
