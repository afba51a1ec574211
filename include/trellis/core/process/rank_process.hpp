// prepare_rank_process: the process settings every training rank starts with. train_rank
// applies them, and the DDP benchmark calls the same function, so it measures the ranks that
// train.
#pragma once
#include <torch/torch.h>

#include <cstddef>

#include "trellis/core/process/host_memory.hpp"

namespace trellis::core::process {

/// `threads` intra-op threads per rank (0 keeps LibTorch's default), and freed host memory kept
/// for reuse (host_memory.hpp).
inline void prepare_rank_process(std::size_t threads) {
  if (threads > 0) torch::set_num_threads(static_cast<int>(threads));
  keep_freed_host_memory();
}

}  // namespace trellis::core::process
