// Environments: curated presets (Azure's names, torch and CUDA versions, MPI support), custom
// ones (a docker base image plus conda/pip), and the CUDA versions each torch release is built
// for. Rules E012-E015, E033 and E037 read these.
#pragma once
#include <cstddef>
#include <utility>

#include "trellis/text.hpp"
#include "trellis/fixed_string.hpp"
#include "trellis/params/param.hpp"

namespace trellis {

namespace kinds {
TRELLIS_KIND(environment_source);
TRELLIS_KIND(base_image);
TRELLIS_KIND(cuda_version);
TRELLIS_KIND(torch_version);
TRELLIS_KIND(mpi_support);
}  // namespace kinds

/// CUDA major.minor the environment ships; written cuda<12, 1>. Absent means a CPU image.
template <std::size_t Major, std::size_t Minor>
struct cuda {
  using kind = kinds::cuda_version;
  static constexpr std::size_t value = Major * 100 + Minor;
};
/// The torch version the environment provides (local runs check the running LibTorch). Not
/// named `torch`: with `using namespace trellis` that would hide LibTorch's namespace.
template <std::size_t Major, std::size_t Minor>
struct torch_version {
  using kind = kinds::torch_version;
  static constexpr std::size_t value = Major * 100 + Minor;
};
/// The official PyTorch builds of a torch release: the CUDA versions it is published for (the
/// stable and experimental columns of the Release Compatibility Matrix in pytorch/pytorch's
/// RELEASE.md). Versions are major*100+minor; unused slots are 0.
struct torch_builds {
  std::size_t torch;
  std::size_t cuda[3];
};
inline constexpr torch_builds official_torch_builds[] = {
    {113, {1106, 1107}},       {200, {1107, 1108}},       {201, {1108, 1201}},
    {202, {1108, 1201}},       {203, {1108, 1201}},       {204, {1108, 1201, 1204}},
    {205, {1108, 1201, 1204}}, {206, {1108, 1204, 1206}}, {207, {1108, 1206, 1208}},
    {208, {1206, 1208, 1209}}, {209, {1206, 1208, 1300}}, {210, {1206, 1208, 1300}},
    {211, {1206, 1208, 1300}}};

/// The builds of torch release `torch`, or nullptr when the table does not list it.
constexpr const torch_builds* builds_of(std::size_t torch) {
  for (const auto& b : official_torch_builds)
    if (b.torch == torch) return &b;
  return nullptr;
}
/// Whether an image can install torch `torch` built for CUDA `cuda` (rule E037). True for any
/// torch (0), a CPU image (0) and a release the table does not list: nothing to check against.
constexpr bool has_official_build(std::size_t torch, std::size_t cuda) {
  if (torch == 0 || cuda == 0) return true;
  // No pointer comparison here: g++ 12 with -fsanitize=undefined no longer folds one to a
  // constant, and this runs in every pipeline's rules.
  for (const auto& b : official_torch_builds) {
    if (b.torch != torch) continue;
    for (std::size_t c : b.cuda)
      if (c == cuda) return true;
    return false;
  }
  return true;
}

/// Names the CUDA versions a torch release is built for, in E037's error:
/// built_for<cuda<11, 8>, cuda<12, 1>, cuda<12, 4>>.
template <class... Cuda>
struct built_for {};
namespace detail {
constexpr std::size_t build_count(std::size_t torch) {
  std::size_t n = 0;
  for (std::size_t c : builds_of(torch)->cuda) n += c != 0;
  return n;
}
template <std::size_t Torch, class Slots>
struct builds_type;
template <std::size_t Torch, std::size_t... Slot>
struct builds_type<Torch, std::index_sequence<Slot...>> {
  using type = built_for<cuda<builds_of(Torch)->cuda[Slot] / 100,
                              builds_of(Torch)->cuda[Slot] % 100>...>;
};
}  // namespace detail
/// built_for<...> of a torch release the table lists.
template <std::size_t Torch>
using built_for_t = typename detail::builds_type<
    Torch, std::make_index_sequence<detail::build_count(Torch)>>::type;

/// The image has an MPI runtime (needed by distributed<mpi>).
struct with_mpi final {
  using kind = kinds::mpi_support;
  static constexpr bool value = true;
};
template <fixed_string Image>
struct base_image {
  using kind = kinds::base_image;
  static constexpr text_view name = Image.view();
};

/// A user-built environment; its name must follow Azure's rules and not start with AzureML.
template <fixed_string Name>
struct custom {
  using kind = kinds::environment_source;
  static constexpr text_view name = Name.view();
  static constexpr bool curated = false;
  static constexpr text_view image = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04";
  static constexpr std::size_t cuda = 0, torch = 0;
  static constexpr bool mpi = false;
};

namespace curated {

template <fixed_string AzureName, fixed_string Image, std::size_t Torch, std::size_t Cuda>
struct preset {
  using kind = kinds::environment_source;
  static constexpr text_view name = AzureName.view();
  static constexpr bool curated = true;
  static constexpr text_view image = Image.view();
  static constexpr std::size_t cuda = Cuda, torch = Torch;
  static constexpr bool mpi = true;  // Azure's PyTorch images ship OpenMPI
};

/// Azure Container for PyTorch: torch 2.2, CUDA 12.1.
struct pytorch_cuda final
    : preset<"AzureML-acpt-pytorch-2.2-cuda12.1",
             "mcr.microsoft.com/azureml/curated/acpt-pytorch-2.2-cuda12.1", 202, 1201> {};
/// torch 1.13 with CUDA 11.7: the same torch as Debian's LibTorch.
struct pytorch_1_13_cuda final
    : preset<"AzureML-ACPT-pytorch-1.13-py38-cuda11.7-gpu",
             "mcr.microsoft.com/azureml/curated/acpt-pytorch-1.13-py38-cuda11.7-gpu", 113, 1107> {};
/// torch 1.13 on CPU.
struct pytorch_cpu final
    : preset<"AzureML-pytorch-1.13-ubuntu20.04-py38-cpu",
             "mcr.microsoft.com/azureml/curated/pytorch-1.13-ubuntu20.04-py38-cpu", 113, 0> {};

}  // namespace curated
}  // namespace trellis
