// Local compute targets: this machine's CPUs or its CUDA GPUs. The local backend runs every
// node of the rank map on this machine.
#pragma once
#include <cstddef>
#include <type_traits>

#include "trellis/text.hpp"
#include "trellis/fixed_string.hpp"
#include "trellis/params/topology.hpp"
#include "trellis/targets/gpu_models.hpp"
#include "trellis/params/param.hpp"

namespace trellis {

namespace kinds {
TRELLIS_KIND(compute_target);
}  // namespace kinds

namespace local {

template <fixed_string Name, std::size_t Gpus, class Gpu>
struct machine {
  using kind = kinds::compute_target;
  using gpu = Gpu;
  static constexpr text_view name = Name.view();
  static constexpr bool is_local = true, retired = false, infiniband = false;
  static constexpr std::size_t gpus_per_node = Gpus, vcpus = 0;
};

struct cpu final : machine<"local::cpu", 0, gpu_models::none> {};

template <class Gpus = gpus<1>>
struct cuda final : machine<"local::cuda", Gpus::value, gpu_models::any_cuda> {};

}  // namespace local

template <class Target>
inline constexpr bool is_gpu_target_v = !std::is_same_v<typename Target::gpu, gpu_models::none>;

}  // namespace trellis
