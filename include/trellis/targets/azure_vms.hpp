// The Azure VM size catalog: vCPUs, GPUs per node, GPU model and memory, InfiniBand, and
// retirement: a retired size is `replaced_by` the size to use, which rule E016's error prints.
// Each size is a small `final` struct so diagnostics print `azure::nc24ads_a100_v4`.
#pragma once
#include <cstddef>
#include <type_traits>

#include "trellis/text.hpp"
#include "trellis/fixed_string.hpp"
#include "trellis/targets/gpu_models.hpp"
#include "trellis/targets/local.hpp"

namespace trellis::azure {

struct not_retired final {};
/// A retired size's successor: what E016's error names, in the types the compiler prints.
template <class Size>
struct replaced_by final {};
enum class fabric : bool { ethernet, infiniband };

/// What every catalog entry carries; `Retirement` is `not_retired`, or `replaced_by<size>`.
template <fixed_string ArmName, std::size_t Vcpus, std::size_t Gpus, class Gpu,
          fabric Fabric = fabric::ethernet, class Retirement = not_retired>
struct vm_size {
  using kind = kinds::compute_target;
  using gpu = Gpu;
  using retirement = Retirement;
  static constexpr text_view name = ArmName.view();
  static constexpr bool is_local = false;
  static constexpr bool retired = !std::is_same_v<Retirement, not_retired>;
  static constexpr bool infiniband = Fabric == fabric::infiniband;
  static constexpr std::size_t gpus_per_node = Gpus, vcpus = Vcpus;
};

namespace g = gpu_models;
constexpr auto ib = fabric::infiniband;

// CPU sizes.
struct d2_v2 final : vm_size<"Standard_D2_v2", 2, 0, g::none> {};
struct ds3_v2 final : vm_size<"Standard_DS3_v2", 4, 0, g::none> {};
struct d13_v2 final : vm_size<"Standard_D13_v2", 8, 0, g::none> {};
struct f4s_v2 final : vm_size<"Standard_F4s_v2", 4, 0, g::none> {};

// GPU sizes in service.
struct nc4as_t4_v3 final : vm_size<"Standard_NC4as_T4_v3", 4, 1, g::t4> {};
struct nc24ads_a100_v4 final : vm_size<"Standard_NC24ads_A100_v4", 24, 1, g::a100_80gb> {};
struct nc48ads_a100_v4 final : vm_size<"Standard_NC48ads_A100_v4", 48, 2, g::a100_80gb> {};
struct nc96ads_a100_v4 final : vm_size<"Standard_NC96ads_A100_v4", 96, 4, g::a100_80gb> {};
struct nd96asr_v4 final : vm_size<"Standard_ND96asr_v4", 96, 8, g::a100_40gb, ib> {};
struct nd96amsr_a100_v4 final : vm_size<"Standard_ND96amsr_A100_v4", 96, 8, g::a100_80gb, ib> {};
struct nc40ads_h100_v5 final : vm_size<"Standard_NC40ads_H100_v5", 40, 1, g::h100_nvl_94gb> {};
struct nd96isr_h100_v5 final : vm_size<"Standard_ND96isr_H100_v5", 96, 8, g::h100_80gb, ib> {};

// Retired sizes: NC (K80) on 2023-09-06, NCv3 (V100) on 2025-09-30.
constexpr auto eth = fabric::ethernet;
struct nc6 final : vm_size<"Standard_NC6", 6, 1, g::k80, eth, replaced_by<nc4as_t4_v3>> {};
struct nc12 final : vm_size<"Standard_NC12", 12, 2, g::k80, eth, replaced_by<nc24ads_a100_v4>> {};
struct nc24 final : vm_size<"Standard_NC24", 24, 4, g::k80, eth, replaced_by<nc48ads_a100_v4>> {};
struct nc6s_v3 final
    : vm_size<"Standard_NC6s_v3", 6, 1, g::v100_16gb, eth, replaced_by<nc24ads_a100_v4>> {};
struct nc24s_v3 final
    : vm_size<"Standard_NC24s_v3", 24, 4, g::v100_16gb, eth, replaced_by<nc96ads_a100_v4>> {};

}  // namespace trellis::azure
