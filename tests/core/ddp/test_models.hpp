// Models for the DDP tests: an MLP whose layers are registered out of forward order (so buckets
// complete out of launch order), a small CNN, a model with unused/rank-dependent parameters, and
// BatchNorm models: trellis::core's ResNet-18 when present, else a small BatchNorm CNN.
#pragma once
#include <torch/torch.h>

#if __has_include("trellis/core/models/resnet.hpp")
#include "trellis/core/models/resnet.hpp"
#define TRELLIS_TEST_HAVE_RESNET 1
#else
#define TRELLIS_TEST_HAVE_RESNET 0
#endif

#include <memory>
#include <stdexcept>
#include <string>

namespace trellis::tests::ddp {

/// Every test model: `aux` switches the optional branch of the unused-parameter model.
struct net : torch::nn::Module {
  virtual at::Tensor forward(at::Tensor x, bool aux) = 0;
  virtual std::vector<std::int64_t> input_shape() const = 0;  ///< per sample
  /// True when BatchNorm or rank-dependent branches make a rank's slice behave differently from
  /// its rows inside one large batch, so the reference must run slice by slice.
  virtual bool slicewise() const { return false; }
};

struct mlp final : net {
  // Registered head first: reverse registration order is not backward order, so the head's
  // bucket completes first and must wait for the earlier buckets to launch.
  torch::nn::Linear head{register_module("head", torch::nn::Linear(64, 10))};
  torch::nn::Linear fc1{register_module("fc1", torch::nn::Linear(32, 64))};
  torch::nn::Linear fc2{register_module("fc2", torch::nn::Linear(64, 64))};
  torch::nn::Linear fc3{register_module("fc3", torch::nn::Linear(64, 64))};
  at::Tensor forward(at::Tensor x, bool) override {
    x = torch::relu(fc1(x));
    x = torch::relu(fc2(x));
    return head(torch::relu(fc3(x)));
  }
  std::vector<std::int64_t> input_shape() const override { return {32}; }
};

struct cnn final : net {
  torch::nn::Conv2d c1{register_module("c1", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 8, 3)))};
  torch::nn::Conv2d c2{
      register_module("c2", torch::nn::Conv2d(torch::nn::Conv2dOptions(8, 16, 3)))};
  torch::nn::Linear fc{register_module("fc", torch::nn::Linear(16 * 3 * 3, 10))};
  at::Tensor forward(at::Tensor x, bool) override {
    x = torch::max_pool2d(torch::relu(c1(x)), 2);  // 12 -> 10 -> 5
    x = torch::relu(c2(x));                        // 5 -> 3
    return fc(x.flatten(1));
  }
  std::vector<std::int64_t> input_shape() const override { return {1, 12, 12}; }
};

/// `aux` is used only on some ranks in a step; `dead` is never used.
struct partly_used final : net {
  torch::nn::Linear fc{register_module("fc", torch::nn::Linear(32, 64))};
  torch::nn::Linear aux{register_module("aux", torch::nn::Linear(64, 64))};
  torch::nn::Linear dead{register_module("dead", torch::nn::Linear(64, 64))};
  torch::nn::Linear head{register_module("head", torch::nn::Linear(64, 10))};
  at::Tensor forward(at::Tensor x, bool use_aux) override {
    x = torch::relu(fc(x));
    if (use_aux) x = x + torch::relu(aux(x));
    return head(x);
  }
  std::vector<std::int64_t> input_shape() const override { return {32}; }
  bool slicewise() const override { return true; }
};

/// A small BatchNorm CNN: the stand-in for ResNet-18 when trellis::core has none.
struct bn_cnn final : net {
  torch::nn::Conv2d c1{
      register_module("c1", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 8, 3).padding(1)))};
  torch::nn::BatchNorm2d b1{register_module("b1", torch::nn::BatchNorm2d(8))};
  torch::nn::Conv2d c2{
      register_module("c2", torch::nn::Conv2d(torch::nn::Conv2dOptions(8, 16, 3).stride(2)))};
  torch::nn::BatchNorm2d b2{register_module("b2", torch::nn::BatchNorm2d(16))};
  torch::nn::Linear fc{register_module("fc", torch::nn::Linear(16, 10))};
  explicit bn_cnn(std::int64_t image_side) : side(image_side) {}
  at::Tensor forward(at::Tensor x, bool) override {
    x = torch::relu(b1(c1(x)));
    x = torch::relu(b2(c2(x)));
    return fc(torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1));
  }
  std::vector<std::int64_t> input_shape() const override { return {3, side, side}; }
  bool slicewise() const override { return true; }
  std::int64_t side;
};

#if TRELLIS_TEST_HAVE_RESNET
/// trellis::core's ResNet-18 (10 classes) behind the test interface.
struct resnet18 final : net {
  std::shared_ptr<trellis::core::resnet<trellis::core::basic_block>> model;
  std::int64_t side;
  explicit resnet18(std::int64_t image_side)
      : model(register_module("model", trellis::core::resnet18(3, 10))), side(image_side) {}
  at::Tensor forward(at::Tensor x, bool) override { return model->forward(x); }
  std::vector<std::int64_t> input_shape() const override { return {3, side, side}; }
  bool slicewise() const override { return true; }
};
#endif

inline std::shared_ptr<net> make_model(const std::string& name, std::int64_t image_side) {
  if (name == "mlp") return std::make_shared<mlp>();
  if (name == "cnn") return std::make_shared<cnn>();
  if (name == "partly_used") return std::make_shared<partly_used>();
  if (name == "bn_cnn") return std::make_shared<bn_cnn>(image_side);
#if TRELLIS_TEST_HAVE_RESNET
  if (name == "resnet18") return std::make_shared<resnet18>(image_side);
#endif
  throw std::invalid_argument("unknown test model '" + name + "'");
}

}  // namespace trellis::tests::ddp
