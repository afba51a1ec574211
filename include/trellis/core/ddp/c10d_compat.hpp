// The c10d pieces trellis uses, on LibTorch 1.13 (collectives on c10d::ProcessGroup) and 2.x
// (on c10d::Backend). Gloo only where its headers exist (pip torch ships none), NCCL only where
// LibTorch was built with it; TRELLIS_HAVE_GLOO / TRELLIS_HAVE_NCCL say which.
#pragma once
#include <torch/version.h>

#include <torch/csrc/distributed/c10d/HashStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/Work.hpp>

#if TORCH_VERSION_MAJOR >= 2
#include <torch/csrc/distributed/c10d/Backend.hpp>
#else
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#endif

#if defined(USE_C10D_GLOO) && __has_include(<gloo/algorithm.h>)
#define TRELLIS_HAVE_GLOO 1
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#else
#define TRELLIS_HAVE_GLOO 0
#endif

#if defined(USE_C10D_NCCL)
#define TRELLIS_HAVE_NCCL 1
#include <c10/cuda/CUDAFunctions.h>

#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#else
#define TRELLIS_HAVE_NCCL 0
#endif

namespace trellis::core::ddp {

/// The class both ProcessGroupGloo and ProcessGroupNCCL derive from in this LibTorch.
#if TORCH_VERSION_MAJOR >= 2
using comm_backend = c10d::Backend;
#else
using comm_backend = c10d::ProcessGroup;
#endif

}  // namespace trellis::core::ddp
