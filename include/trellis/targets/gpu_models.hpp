// GPU models the catalog uses, with the CUDA versions that can drive them (rule E015).
// CUDA versions are written major*100 + minor: 11.8 is 1108.
#pragma once
#include <cstddef>

#include "trellis/text.hpp"

namespace trellis::gpu_models {

struct none final {
  static constexpr text_view name = "none";
  static constexpr std::size_t min_cuda = 0, max_cuda = 0, memory_gib = 0;
};
struct k80 final {  // sm_37: dropped by CUDA 12
  static constexpr text_view name = "K80";
  static constexpr std::size_t min_cuda = 500, max_cuda = 1108, memory_gib = 12;
};
struct v100_16gb final {  // sm_70: dropped by CUDA 13
  static constexpr text_view name = "V100";
  static constexpr std::size_t min_cuda = 900, max_cuda = 1209, memory_gib = 16;
};
struct t4 final {  // sm_75
  static constexpr text_view name = "T4";
  static constexpr std::size_t min_cuda = 1000, max_cuda = 0, memory_gib = 16;
};
struct a100_40gb final {  // sm_80
  static constexpr text_view name = "A100";
  static constexpr std::size_t min_cuda = 1100, max_cuda = 0, memory_gib = 40;
};
struct a100_80gb final {
  static constexpr text_view name = "A100";
  static constexpr std::size_t min_cuda = 1100, max_cuda = 0, memory_gib = 80;
};
struct h100_80gb final {  // sm_90
  static constexpr text_view name = "H100";
  static constexpr std::size_t min_cuda = 1108, max_cuda = 0, memory_gib = 80;
};
struct h100_nvl_94gb final {
  static constexpr text_view name = "H100 NVL";
  static constexpr std::size_t min_cuda = 1108, max_cuda = 0, memory_gib = 94;
};
/// A GPU of this machine whose model is only known at run time.
struct any_cuda final {
  static constexpr text_view name = "local CUDA GPU";
  static constexpr std::size_t min_cuda = 0, max_cuda = 0, memory_gib = 0;
};

/// True when CUDA version `cuda` can drive GPU model `G`.
template <class G>
constexpr bool supports_cuda(std::size_t cuda) {
  return cuda >= G::min_cuda && (G::max_cuda == 0 || cuda <= G::max_cuda);
}

}  // namespace trellis::gpu_models
