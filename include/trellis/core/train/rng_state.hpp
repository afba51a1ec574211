// The random state a resumed run must get back: LibTorch's default CPU generator (dropout and
// other random ops on CPU) and, on a CUDA device, that device's generator, as one byte row. The
// trainer uses no other generator: data order and augmentation derive from seed and epoch.
#pragma once
#include <ATen/Context.h>
#include <ATen/core/Generator.h>
#include <c10/core/Device.h>
#include <torch/types.h>

#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace trellis::core::train_detail {

inline std::vector<at::Generator> generators_for(c10::Device device) {
  std::vector<at::Generator> out{at::globalContext().defaultGenerator(c10::kCPU)};
  if (device.is_cuda()) out.push_back(at::globalContext().defaultGenerator(device));
  return out;
}

/// uint8 [n]: the generators' states back to back.
inline torch::Tensor rng_state(c10::Device device) {
  std::vector<torch::Tensor> parts;
  for (auto& g : generators_for(device)) {
    const std::lock_guard lock{g.mutex()};
    parts.push_back(g.get_state().reshape(-1));
  }
  return torch::cat(parts);
}

/// The inverse of rng_state; throws when `state` does not fit (another build or device kind).
inline void restore_rng_state(const torch::Tensor& state, c10::Device device) {
  const auto flat = state.reshape(-1).to(torch::kCPU).to(torch::kUInt8);
  auto generators = generators_for(device);
  std::int64_t total = 0;
  for (auto& g : generators) total += g.get_state().numel();
  if (total != flat.numel())
    throw std::runtime_error("[trellis] train: the checkpoint's random state (" +
                             std::to_string(flat.numel()) +
                             " bytes) does not fit this build's "
                             "generators (" +
                             std::to_string(total) + " bytes)");
  std::int64_t offset = 0;
  for (auto& g : generators) {
    const std::lock_guard lock{g.mutex()};
    const auto size = g.get_state().numel();
    g.set_state(flat.narrow(0, offset, size).clone());
    offset += size;
  }
}

}  // namespace trellis::core::train_detail
