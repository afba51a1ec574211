// What the ONNX export tests share: their scratch folder, the models they export (small_cnn and
// the ResNets with random weights and non-trivial BatchNorm statistics), and output comparison.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "trellis/core/models/make_model.hpp"
#include "trellis/core/models/user_module.hpp"
#include "scratch_dir.hpp"
#include "trellis/core/onnx/trace.hpp"

namespace trellis::core::testing {

/// A fresh folder under the test's working directory, kept for a failure's reader.
inline std::filesystem::path onnx_scratch(const std::string& name) {
  return scratch_dir("onnx", name);
}

/// Every BatchNorm gets random affine parameters and running statistics (a fresh model has
/// weight 1, bias 0, mean 0, var 1, which folding would leave unchanged).
inline void randomize_batch_norm(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  for (const auto& m : model.modules(/*include_self=*/false))
    if (auto* bn = m->as<torch::nn::BatchNorm2d>()) {
      bn->weight.uniform_(0.5, 1.5);
      bn->bias.normal_(0.0, 0.2);
      bn->running_mean.normal_(0.0, 0.2);
      bn->running_var.uniform_(0.5, 2.0);
    }
}

/// A user module built only from layers trellis exports, with what the built-in models lack:
/// dilation, groups, a bias-free convolution before BatchNorm, in-place ReLU, ceil-mode and
/// average pooling, a non-global adaptive pooling, view(N, -1), Dropout, a bias-free Linear and
/// a residual addition written in forward.
struct exportable_net : torch::nn::Module {
  exportable_net(std::int64_t in_channels, std::int64_t classes)
      : stem{register_module("stem", torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, 8, 3)
                                                           .stride(2)
                                                           .padding(2)
                                                           .dilation(2)
                                                           .bias(false)))},
        bn{register_module("bn", torch::nn::BatchNorm2d(8))},
        grouped{register_module(
            "grouped", torch::nn::Conv2d(torch::nn::Conv2dOptions(8, 8, 3).padding(1).groups(4)))},
        pool{register_module(
            "pool",
            torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(3).stride(2).ceil_mode(true)))},
        average{register_module("average", torch::nn::AvgPool2d(torch::nn::AvgPool2dOptions(2)))},
        adaptive{register_module("adaptive", torch::nn::AdaptiveAvgPool2d(2))},
        dropout{register_module("dropout", torch::nn::Dropout(0.5))},
        fc{register_module(
            "fc", torch::nn::Linear(torch::nn::LinearOptions(8 * 2 * 2, classes).bias(false)))} {}

  torch::Tensor forward(torch::Tensor x) {
    x = bn(stem(x));
    x.relu_();
    x = pool(x + grouped(x));
    x = adaptive(average(x));
    return fc(dropout(x.view({x.size(0), -1})));
  }

  torch::nn::Conv2d stem;
  torch::nn::BatchNorm2d bn;
  torch::nn::Conv2d grouped;
  torch::nn::MaxPool2d pool;
  torch::nn::AvgPool2d average;
  torch::nn::AdaptiveAvgPool2d adaptive;
  torch::nn::Dropout dropout;
  torch::nn::Linear fc;
};

/// Layers without an ONNX export in trellis: a Sigmoid after a convolution, and an LSTM.
struct sigmoid_net : torch::nn::Module {
  sigmoid_net(std::int64_t in_channels, std::int64_t classes)
      : conv{register_module("conv", torch::nn::Conv2d(in_channels, 4, 3))},
        fc{register_module("fc", torch::nn::Linear(4, classes))} {}
  torch::Tensor forward(torch::Tensor x) {
    x = torch::sigmoid(conv(x));
    return fc(torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1));
  }
  torch::nn::Conv2d conv;
  torch::nn::Linear fc;
};
struct lstm_net : torch::nn::Module {  // for one-channel 28x28 images, a row per step
  lstm_net(std::int64_t, std::int64_t classes)
      : lstm{register_module("lstm",
                             torch::nn::LSTM(torch::nn::LSTMOptions(28, 16).batch_first(true)))},
        fc{register_module("fc", torch::nn::Linear(16, classes))} {}
  torch::Tensor forward(torch::Tensor x) {
    auto out = std::get<0>(lstm(x.flatten(1, 2)));
    return fc(out.select(1, -1));
  }
  torch::nn::LSTM lstm;
  torch::nn::Linear fc;
};

struct model_case {
  std::string name;  ///< the front end's model name: small_cnn, resnet18, ...
  std::shared_ptr<classifier> model;
  std::vector<std::int64_t> image_shape;  ///< [C, H, W]
  [[nodiscard]] torch::Tensor images(std::int64_t batch) const {
    return torch::randn({batch, image_shape[0], image_shape[1], image_shape[2]});
  }
};

/// small_cnn on Fashion-MNIST's 1x28x28, the ResNets on 3x64x64 (small, so tests stay fast, and
/// still 2x2 before global pooling), then exportable_net; 10 classes; random weights,
/// randomized BatchNorm.
inline std::vector<model_case> test_models() {
  std::vector<model_case> out{
      {"small_cnn", make_builtin_model("small_cnn", 1, 10), {1, 28, 28}},
      {"resnet18", make_builtin_model("resnet18", 3, 10), {3, 64, 64}},
      {"resnet34", make_builtin_model("resnet34", 3, 10), {3, 64, 64}},
      {"resnet50", make_builtin_model("resnet50", 3, 10), {3, 64, 64}},
      {"exportable_net", std::make_shared<user_classifier<exportable_net>>(3, 10), {3, 32, 32}}};
  for (auto& c : out) randomize_batch_norm(*c.model);
  return out;
}

/// The model's eval-mode logits (its mode is restored).
inline torch::Tensor eval_outputs(classifier& model, const torch::Tensor& images) {
  onnx_export::eval_mode_guard eval{model};
  torch::NoGradGuard no_grad;
  return model.forward(images);
}

inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

}  // namespace trellis::core::testing
