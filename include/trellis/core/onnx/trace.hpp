// trace_forward: records a classifier's eval-mode forward as a TorchScript graph with LibTorch's
// C++ tracer, so whatever C++ the forward runs (built-in or user module) is seen as the aten ops
// it calls. Parameters and buffers become named graph inputs, not anonymous constants.
#pragma once
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/csrc/jit/frontend/tracer.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "trellis/core/models/classifier.hpp"
#include "trellis/core/onnx/error.hpp"

namespace trellis::core::onnx_export {

struct traced_forward {
  std::shared_ptr<torch::jit::Graph> graph;
  /// Graph input 0 is the images; input i > 0 is the parameter or buffer names[i - 1], whose
  /// value is tensors[i - 1] (state-dict names).
  std::vector<std::string> names;
  std::vector<torch::Tensor> tensors;
  std::vector<std::int64_t> image_sizes;  ///< the traced images' [N, C, H, W]
};

/// Switches a model to eval mode and back to its former mode when it goes.
class eval_mode_guard {
 public:
  explicit eval_mode_guard(classifier& model) : model_{model}, was_training_{model.is_training()} {
    model_.eval();
  }
  ~eval_mode_guard() { model_.train(was_training_); }
  eval_mode_guard(const eval_mode_guard&) = delete;
  eval_mode_guard& operator=(const eval_mode_guard&) = delete;

 private:
  classifier& model_;
  bool was_training_;
};

/// Where the model's parameters are (the CPU for a model without any).
inline torch::Device device_of(const torch::nn::Module& model) {
  auto parameters = model.parameters();
  return parameters.empty() ? torch::Device(torch::kCPU) : parameters.front().device();
}

/// Traces model.forward on `images` in eval mode (restoring the model's mode afterwards). The
/// forward's tensors that are neither the images nor a parameter or buffer appear as constants.
inline traced_forward trace_forward(classifier& model, const torch::Tensor& images) {
  if (images.dim() != 4 || images.scalar_type() != torch::kFloat)
    throw error(fmt::format("the images to trace must be float [N, C, H, W], not {} {}",
                            c10::toString(images.scalar_type()), images.sizes().vec()));
  traced_forward out;
  out.image_sizes = images.sizes().vec();
  torch::jit::Stack inputs{images};
  // The module's own tensors (not state_dict_of's detached aliases): the tracer knows a tensor
  // by its identity, and forward uses these.
  for (const auto& p : model.named_parameters()) {
    out.names.push_back(p.key());
    out.tensors.push_back(p.value());
  }
  for (const auto& b : model.named_buffers()) {
    out.names.push_back(b.key());
    out.tensors.push_back(b.value());
  }
  inputs.insert(inputs.end(), out.tensors.begin(), out.tensors.end());

  eval_mode_guard eval{model};
  torch::NoGradGuard no_grad;
  try {
    auto traced = torch::jit::tracer::trace(
        std::move(inputs),
        [&](torch::jit::Stack stack) -> torch::jit::Stack {
          return {model.forward(stack.front().toTensor())};
        },
        [](const torch::autograd::Variable&) { return std::string(); }, /*strict=*/true,
        /*force_outplace=*/false);
    out.graph = traced.first->graph;
  } catch (const c10::Error& e) {
    throw error(fmt::format("tracing the model's forward on images {} failed: {}", out.image_sizes,
                            e.what_without_backtrace()));
  } catch (const std::exception& e) {
    throw error(fmt::format("tracing the model's forward on images {} failed: {}", out.image_sizes,
                            e.what()));
  }
  return out;
}

}  // namespace trellis::core::onnx_export
