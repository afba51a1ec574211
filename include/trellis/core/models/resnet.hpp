// torchvision's ResNet-18/34/50 (v1.5: stride on the 3x3 conv) with its exact parameter and
// buffer names, shapes, order and initialisation, so state dicts move both ways between C++
// and torchvision.models.resnetNN(num_classes=K). Input channels and class count configurable.
#pragma once
#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "trellis/core/models/classifier.hpp"

namespace trellis::core {

namespace resnet_detail {
// Bias-free, padded to keep the size at stride 1: every convolution of a ResNet.
inline torch::nn::Conv2d conv(std::int64_t in, std::int64_t out, std::int64_t kernel,
                              std::int64_t stride) {
  return torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(kernel / 2).bias(false));
}
}  // namespace resnet_detail

/// Two 3x3 convolutions and a shortcut (ResNet-18/34). Registration order is torchvision's.
class basic_block : public torch::nn::Module {
 public:
  static constexpr std::int64_t expansion = 1;

  basic_block(std::int64_t in_planes, std::int64_t planes, std::int64_t stride,
              torch::nn::Sequential shortcut)
      : conv1{register_module("conv1", resnet_detail::conv(in_planes, planes, 3, stride))},
        bn1{register_module("bn1", torch::nn::BatchNorm2d(planes))},
        conv2{register_module("conv2", resnet_detail::conv(planes, planes, 3, 1))},
        bn2{register_module("bn2", torch::nn::BatchNorm2d(planes))},
        downsample{shortcut ? register_module("downsample", shortcut) : nullptr} {}

  torch::Tensor forward(torch::Tensor x) {
    auto out = torch::relu(bn1(conv1(x)));
    out = bn2(conv2(out));
    return torch::relu(out + (downsample ? downsample->forward(x) : x));
  }

 private:
  torch::nn::Conv2d conv1;
  torch::nn::BatchNorm2d bn1;
  torch::nn::Conv2d conv2;
  torch::nn::BatchNorm2d bn2;
  torch::nn::Sequential downsample;
};

/// 1x1 reduce, 3x3 (carrying the stride, as in torchvision's v1.5), 1x1 expand (ResNet-50).
class bottleneck : public torch::nn::Module {
 public:
  static constexpr std::int64_t expansion = 4;

  bottleneck(std::int64_t in_planes, std::int64_t planes, std::int64_t stride,
             torch::nn::Sequential shortcut)
      : conv1{register_module("conv1", resnet_detail::conv(in_planes, planes, 1, 1))},
        bn1{register_module("bn1", torch::nn::BatchNorm2d(planes))},
        conv2{register_module("conv2", resnet_detail::conv(planes, planes, 3, stride))},
        bn2{register_module("bn2", torch::nn::BatchNorm2d(planes))},
        conv3{register_module("conv3", resnet_detail::conv(planes, planes * expansion, 1, 1))},
        bn3{register_module("bn3", torch::nn::BatchNorm2d(planes * expansion))},
        downsample{shortcut ? register_module("downsample", shortcut) : nullptr} {}

  torch::Tensor forward(torch::Tensor x) {
    auto out = torch::relu(bn1(conv1(x)));
    out = torch::relu(bn2(conv2(out)));
    out = bn3(conv3(out));
    return torch::relu(out + (downsample ? downsample->forward(x) : x));
  }

 private:
  torch::nn::Conv2d conv1;
  torch::nn::BatchNorm2d bn1;
  torch::nn::Conv2d conv2;
  torch::nn::BatchNorm2d bn2;
  torch::nn::Conv2d conv3;
  torch::nn::BatchNorm2d bn3;
  torch::nn::Sequential downsample;
};

/// conv1, bn1, maxpool, layer1..layer4 (blocks named "0", "1", ...), global average pool, fc.
template <class Block>
class resnet final : public classifier {
 public:
  resnet(std::array<std::int64_t, 4> blocks, std::int64_t in_channels, std::int64_t classes)
      : conv1{register_module("conv1", resnet_detail::conv(in_channels, 64, 7, 2))},
        bn1{register_module("bn1", torch::nn::BatchNorm2d(64))},
        layer1{register_module("layer1", make_layer(64, blocks[0], 1))},
        layer2{register_module("layer2", make_layer(128, blocks[1], 2))},
        layer3{register_module("layer3", make_layer(256, blocks[2], 2))},
        layer4{register_module("layer4", make_layer(512, blocks[3], 2))},
        fc{register_module("fc", torch::nn::Linear(512 * Block::expansion, classes))} {
    // torchvision: Kaiming-normal (fan_out, ReLU) convolutions, BatchNorm weight 1 and bias 0;
    // fc keeps Linear's default initialisation, the same in LibTorch as in Python.
    torch::NoGradGuard no_grad;
    for (auto& m : modules(/*include_self=*/false)) {
      if (auto* conv = m->as<torch::nn::Conv2d>()) {
        torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
      } else if (auto* bn = m->as<torch::nn::BatchNorm2d>()) {
        bn->weight.fill_(1.0);
        bn->bias.zero_();
      }
    }
  }

  torch::Tensor forward(torch::Tensor images) override {
    auto x = torch::relu(bn1(conv1(images)));
    x = torch::max_pool2d(x, 3, 2, 1);
    x = layer4->forward(layer3->forward(layer2->forward(layer1->forward(x))));
    x = torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
    return fc(x);
  }

  [[nodiscard]] std::string head_name() const override { return "fc"; }

 private:
  torch::nn::Sequential make_layer(std::int64_t planes, std::int64_t blocks, std::int64_t stride) {
    torch::nn::Sequential downsample{nullptr};
    if (stride != 1 || in_planes_ != planes * Block::expansion)
      downsample = torch::nn::Sequential(
          resnet_detail::conv(in_planes_, planes * Block::expansion, 1, stride),
          torch::nn::BatchNorm2d(planes * Block::expansion));
    torch::nn::Sequential layer;
    layer->push_back(std::make_shared<Block>(in_planes_, planes, stride, downsample));
    in_planes_ = planes * Block::expansion;
    for (std::int64_t i = 1; i < blocks; ++i)
      layer->push_back(std::make_shared<Block>(in_planes_, planes, 1, nullptr));
    return layer;
  }

  std::int64_t in_planes_ = 64;  // channels entering the next block while layers are built
  torch::nn::Conv2d conv1;
  torch::nn::BatchNorm2d bn1;
  torch::nn::Sequential layer1, layer2, layer3, layer4;
  torch::nn::Linear fc;
};

inline std::shared_ptr<resnet<basic_block>> resnet18(std::int64_t in_channels = 3,
                                                     std::int64_t classes = 1000) {
  return std::make_shared<resnet<basic_block>>(std::array<std::int64_t, 4>{2, 2, 2, 2}, in_channels,
                                               classes);
}
inline std::shared_ptr<resnet<basic_block>> resnet34(std::int64_t in_channels = 3,
                                                     std::int64_t classes = 1000) {
  return std::make_shared<resnet<basic_block>>(std::array<std::int64_t, 4>{3, 4, 6, 3}, in_channels,
                                               classes);
}
inline std::shared_ptr<resnet<bottleneck>> resnet50(std::int64_t in_channels = 3,
                                                    std::int64_t classes = 1000) {
  return std::make_shared<resnet<bottleneck>>(std::array<std::int64_t, 4>{3, 4, 6, 3}, in_channels,
                                              classes);
}

}  // namespace trellis::core
