// User modules: the concept trellis::core::trainable_module that models::user<M> needs, and
// user_classifier<M>, which gives such a module the classifier interface without renaming any
// of its parameters or buffers (its state dict is exactly M's).
#pragma once
#include <torch/torch.h>

#include <concepts>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "trellis/core/models/classifier.hpp"

namespace trellis::core {

/// A LibTorch module `train` can build and train: M(in_channels, classes), forward(images) ->
/// logits. It may name its head (the child transfer learning replaces) with
/// `static constexpr std::string_view head_name = "...";` (or a text_view); otherwise its last
/// Linear child is the head.
template <class M>
concept trainable_module = std::derived_from<M, torch::nn::Module> &&
    std::constructible_from<M, std::int64_t, std::int64_t> && requires(M& m, torch::Tensor images) {
  { m.forward(images) } -> std::same_as<torch::Tensor>;
};

template <trainable_module M>
class user_classifier final : public classifier {
 public:
  user_classifier(std::int64_t in_channels, std::int64_t classes)
      : module_{std::make_shared<M>(in_channels, classes)} {
    // Adopt M's own parameters, buffers and children under their own names: they are the same
    // tensors and modules, so training either object trains both, and no "module." prefix.
    for (const auto& p : module_->named_parameters(/*recurse=*/false))
      register_parameter(p.key(), p.value(), p.value().requires_grad());
    for (const auto& b : module_->named_buffers(/*recurse=*/false))
      register_buffer(b.key(), b.value());
    for (const auto& c : module_->named_children()) register_module(c.key(), c.value());
    if constexpr (requires { std::string(M::head_name.data(), M::head_name.size()); }) {
      head_.assign(M::head_name.data(), M::head_name.size());
    } else {
      for (const auto& c : module_->named_children())
        if (c.value()->template as<torch::nn::Linear>()) head_ = c.key();
    }
  }

  torch::Tensor forward(torch::Tensor images) override {
    return module_->forward(std::move(images));
  }
  [[nodiscard]] std::string head_name() const override { return head_; }

  // M's own training flag is not shared, so pass the mode on (before the frozen-BN fix-up).
  void train(bool on = true) override {
    module_->train(on);
    classifier::train(on);
  }

  [[nodiscard]] M& module() { return *module_; }

 private:
  std::shared_ptr<M> module_;
  std::string head_;
};

}  // namespace trellis::core
