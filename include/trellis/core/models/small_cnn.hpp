// trellis::core::small_cnn: the classic two-convolution Fashion-MNIST baseline (no BatchNorm):
// conv 32 3x3, ReLU, max-pool 2, conv 64 3x3, ReLU, max-pool 2, dropout, fc 128, ReLU, fc classes.
// Fashion-MNIST test accuracy of an exact Python replica (normalised inputs, SGD lr 0.01,
// momentum 0.9, batch 32, cosine over 5 epochs): 0.883, 0.901, 0.910, 0.916, 0.917 by epoch.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "trellis/core/models/classifier.hpp"

namespace trellis::core {

class small_cnn final : public classifier {
 public:
  /// For images [N, in_channels, height, width]; "same" padding, so each pool halves the size.
  small_cnn(std::int64_t in_channels, std::int64_t classes, std::int64_t height = 28,
            std::int64_t width = 28)
      : conv1{register_module(
            "conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, 32, 3).padding(1)))},
        conv2{register_module("conv2",
                              torch::nn::Conv2d(torch::nn::Conv2dOptions(32, 64, 3).padding(1)))},
        dropout{register_module("dropout", torch::nn::Dropout(0.25))},
        fc1{register_module("fc1", torch::nn::Linear(64 * pooled(height) * pooled(width), 128))},
        fc2{register_module("fc2", torch::nn::Linear(128, classes))} {}

  torch::Tensor forward(torch::Tensor images) override {
    auto x = torch::max_pool2d(torch::relu(conv1(images)), 2);
    x = torch::max_pool2d(torch::relu(conv2(x)), 2);
    x = dropout(x.flatten(1));
    return fc2(torch::relu(fc1(x)));
  }

  [[nodiscard]] std::string head_name() const override { return "fc2"; }

 private:
  static std::int64_t pooled(std::int64_t size) {
    if (size < 4)
      throw std::invalid_argument("[trellis] small_cnn: images of " + std::to_string(size) +
                                  " pixels are too small for two 2x2 poolings (at least 4)");
    return size / 2 / 2;
  }

  torch::nn::Conv2d conv1, conv2;
  torch::nn::Dropout dropout;
  torch::nn::Linear fc1, fc2;
};

}  // namespace trellis::core
