// Environments: curated presets (Azure's names, torch and CUDA versions, MPI support) and
// custom ones (a docker base image plus conda/pip). Rules E012-E015 and E033 read these.
#pragma once
#include <cstddef>

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
