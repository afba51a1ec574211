// assign_buckets: which parameters share a gradient bucket. Reverse parameter order (late layers'
// gradients are ready first in backward), a small first bucket so communication starts early,
// then large ones so each allreduce is worth its latency (PyTorch DDP: 1 MiB, then 25 MiB).
#pragma once
#include <ATen/ATen.h>

#include <cstddef>
#include <vector>

namespace trellis::core::ddp {

struct bucket_caps {
  std::size_t first_bytes = std::size_t{1} << 20;
  std::size_t bytes = std::size_t{25} << 20;
};

/// Parameter indices per bucket, in launch order. A bucket closes when it reaches its cap or the
/// next parameter has another dtype or device (a bucket is one flat tensor); a parameter larger
/// than the cap gets a bucket of its own.
inline std::vector<std::vector<std::size_t>> assign_buckets(const std::vector<at::Tensor>& params,
                                                            bucket_caps caps) {
  std::vector<std::vector<std::size_t>> buckets;
  std::size_t filled = 0;
  for (std::size_t i = params.size(); i-- > 0;) {
    const auto& p = params[i];
    bool open_new = buckets.empty();
    if (!open_new) {
      const auto& head = params[buckets.back().front()];
      const std::size_t cap = buckets.size() == 1 ? caps.first_bytes : caps.bytes;
      open_new =
          filled >= cap || head.scalar_type() != p.scalar_type() || head.device() != p.device();
    }
    if (open_new) {
      buckets.emplace_back();
      filled = 0;
    }
    buckets.back().push_back(i);
    filled += static_cast<std::size_t>(p.numel()) * p.element_size();
  }
  return buckets;
}

}  // namespace trellis::core::ddp
