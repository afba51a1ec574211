// Helpers shared by the model tests: a scratch folder, parameter counts, and realistic
// BatchNorm statistics (a model fresh from its constructor has mean 0 / var 1 everywhere).
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <string>

namespace trellis::core::testing {

/// Where the model tests keep their files: under the test's working directory.
inline std::filesystem::path scratch_root() {
  return std::filesystem::current_path() / "models_scratch";
}

/// A fresh folder under scratch_root().
inline std::filesystem::path scratch(const std::string& name) {
  auto dir = scratch_root() / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline std::int64_t parameter_count(const torch::nn::Module& module) {
  std::int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

/// A few training-mode forward passes so that running statistics are no longer trivial.
template <class Model>
void warm_up_batch_norm(Model& model, std::int64_t channels, std::int64_t size = 64) {
  torch::NoGradGuard no_grad;
  model.train();
  for (int i = 0; i < 3; ++i) model.forward(torch::randn({4, channels, size, size}));
  model.eval();
}

}  // namespace trellis::core::testing
