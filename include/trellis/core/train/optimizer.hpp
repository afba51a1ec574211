// make_optimizer: the LibTorch optimizer a train_config names (SGD with momentum, or Adam) over
// the parameters that train; set_learning_rate applies a schedule's rate to every group.
#pragma once
#include <torch/optim/adam.h>
#include <torch/optim/optimizer.h>
#include <torch/optim/sgd.h>

#include <memory>
#include <vector>

#include "trellis/core/train/config.hpp"

namespace trellis::core {

/// Only parameters with requires_grad: a frozen backbone gets no optimizer state.
inline std::unique_ptr<torch::optim::Optimizer> make_optimizer(
    const train_config& c, const std::vector<torch::Tensor>& parameters) {
  std::vector<torch::Tensor> trained;
  for (const auto& p : parameters)
    if (p.requires_grad()) trained.push_back(p);
  if (c.optimizer == "adam")
    return std::make_unique<torch::optim::Adam>(
        trained, torch::optim::AdamOptions(c.lr).weight_decay(c.weight_decay));
  return std::make_unique<torch::optim::SGD>(
      trained, torch::optim::SGDOptions(c.lr).momentum(c.momentum).weight_decay(c.weight_decay));
}

inline void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

}  // namespace trellis::core
