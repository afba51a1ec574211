// best_model: which epoch's weights become the run's model under select_best: val_accuracy
// (higher is better) or val_loss (lower is better). Another metric does not apply, and then the
// model is the last epoch's weights.
#pragma once
#include <torch/torch.h>

#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <utility>

#include "trellis/core/serialization/state_dict.hpp"
#include "trellis/core/train/checkpoint.hpp"

namespace trellis::core {

class best_model {
 public:
  explicit best_model(std::string metric) : metric_{std::move(metric)} {}

  [[nodiscard]] bool applies() const { return metric_ == "val_accuracy" || metric_ == "val_loss"; }

  /// Keeps a CPU copy of the model's weights when this epoch's value beats the best so far (a
  /// tie keeps the earlier epoch; NaN never wins). Returns whether it did.
  bool offer(const checkpoint_info& info, const torch::nn::Module& model) {
    if (!better(value_of(info))) return false;
    epoch_ = info.epoch;
    value_ = value_of(info);
    info_ = info;
    weights_ = state_dict{};
    for (const auto& item : state_dict_of(model))
      weights_.insert(item.key(), item.value().to(torch::kCPU).clone());
    return true;
  }

  /// Takes the best epoch of a resumed run from its best checkpoint.
  void adopt(checkpoint c) {
    if (!applies()) return;
    epoch_ = c.info.epoch;
    value_ = value_of(c.info);
    info_ = c.info;
    weights_ = std::move(c.model);
  }

  /// Null until an epoch won.
  [[nodiscard]] const state_dict* weights() const { return epoch_ > 0 ? &weights_ : nullptr; }
  [[nodiscard]] std::size_t epoch() const { return epoch_; }  ///< from 1; 0: none yet
  [[nodiscard]] double value() const { return value_; }
  /// The best epoch's validation (and progress) when it was offered.
  [[nodiscard]] const checkpoint_info& info() const { return info_; }

 private:
  [[nodiscard]] double value_of(const checkpoint_info& info) const {
    return metric_ == "val_loss" ? info.val_loss : info.val_accuracy;
  }
  [[nodiscard]] bool better(double v) const {
    if (!applies() || std::isnan(v)) return false;
    if (epoch_ == 0) return true;
    return metric_ == "val_loss" ? v < value_ : v > value_;
  }

  std::string metric_;
  std::size_t epoch_ = 0;
  double value_ = std::numeric_limits<double>::quiet_NaN();
  checkpoint_info info_;
  state_dict weights_;
};

}  // namespace trellis::core
