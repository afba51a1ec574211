// trellis::core::classifier: the base of every model `train` builds: a torch::nn::Module that
// maps images to class logits, knows which child is its head (replaced in transfer learning),
// and can freeze everything else (its backbone).
#pragma once
#include <torch/torch.h>

#include <string>
#include <string_view>

namespace trellis::core {

class classifier : public torch::nn::Module {
 public:
  /// Logits [N, classes] for images [N, C, H, W].
  virtual torch::Tensor forward(torch::Tensor images) = 0;

  /// The child that maps features to logits ("fc" for ResNets); "" when there is none.
  [[nodiscard]] virtual std::string head_name() const = 0;

  /// Whether a parameter, buffer or module path belongs to the head.
  [[nodiscard]] bool in_head(std::string_view name) const {
    auto head = head_name();
    return !head.empty() && name.starts_with(head) &&
           (name.size() == head.size() || name[head.size()] == '.');
  }

  /// Stops (or resumes) training of everything outside the head: its parameters get
  /// requires_grad false. Decision: the backbone's BatchNorm layers also stay in eval mode, even
  /// after train(), so a frozen backbone is really frozen: its running statistics are not
  /// re-estimated from the new data set, and each image is normalised the way the backbone was
  /// trained (the usual practice for fine-tuning a head, e.g. torchvision's FrozenBatchNorm2d).
  void freeze_backbone(bool frozen = true) {
    for (auto& p : named_parameters())
      if (!in_head(p.key())) p.value().set_requires_grad(!frozen);
    backbone_frozen_ = frozen;
    train(is_training());
  }
  [[nodiscard]] bool backbone_frozen() const noexcept { return backbone_frozen_; }

  void train(bool on = true) override {
    torch::nn::Module::train(on);
    if (!backbone_frozen_) return;
    for (const auto& m : named_modules("", /*include_self=*/false))
      if (!in_head(m.key()) && is_batch_norm(*m.value())) m.value()->eval();
  }

 protected:
  classifier() = default;

 private:
  static bool is_batch_norm(torch::nn::Module& m) {
    return m.as<torch::nn::BatchNorm1d>() || m.as<torch::nn::BatchNorm2d>() ||
           m.as<torch::nn::BatchNorm3d>();
  }

  bool backbone_frozen_ = false;
};

}  // namespace trellis::core
