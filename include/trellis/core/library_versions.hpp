// The versions of the libraries a run trains with, as its provenance records them: LibTorch
// (from its headers), the CUDA runtime LibTorch was built with, and NCCL ("none" without them).
#pragma once
#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/version.h>

#include <string>

#include <fmt/format.h>

#include "trellis/core/ddp/c10d_compat.hpp"

#if TRELLIS_HAVE_NCCL && __has_include(<nccl.h>)
#include <nccl.h>
#define TRELLIS_NCCL_VERSION_KNOWN 1
#else
#define TRELLIS_NCCL_VERSION_KNOWN 0
#endif

namespace trellis::core {

struct library_versions {
  std::string torch, cuda, nccl;
};

inline library_versions current_library_versions() {
  library_versions v{fmt::format("{}.{}.{}", TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR,
                                 TORCH_VERSION_PATCH),
                     "none", "none"};
  const auto& cuda = at::detail::getCUDAHooks();
  if (cuda.hasCUDART()) {
    const long runtime = cuda.versionCUDART();  // e.g. 12010 for 12.1
    v.cuda = fmt::format("{}.{}", runtime / 1000, runtime % 1000 / 10);
  }
#if TRELLIS_NCCL_VERSION_KNOWN
  int nccl = 0;
  if (ncclGetVersion(&nccl) == ncclSuccess)
    v.nccl = fmt::format("{}.{}.{}", nccl / 10000, nccl / 100 % 100, nccl % 100);
#elif TRELLIS_HAVE_NCCL
  v.nccl = "unknown";
#endif
  return v;
}

}  // namespace trellis::core
