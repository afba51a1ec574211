// broadcast_coalesced: copies root's values of many tensors (parameters, BatchNorm buffers) to
// every rank with one collective per dtype instead of one per tensor.
#pragma once
#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include "trellis/core/ddp/process_group.hpp"

namespace trellis::core::ddp {

inline void broadcast_coalesced(process_group& group, const std::vector<at::Tensor>& tensors,
                                int root, const std::string& what) {
  if (group.size() == 1 || tensors.empty()) return;
  torch::NoGradGuard no_grad;
  std::map<at::ScalarType, std::vector<at::Tensor>> by_type;  // ordered: same order on every rank
  for (const auto& t : tensors) by_type[t.scalar_type()].push_back(t);
  for (auto& [type, group_tensors] : by_type) {
    std::vector<at::Tensor> flat_parts;
    for (const auto& t : group_tensors) flat_parts.push_back(t.reshape(-1).to(group.device()));
    at::Tensor flat = torch::cat(flat_parts);
    group.wait(group.broadcast(flat, root), what);
    if (group.rank() == root) continue;
    std::int64_t offset = 0;
    for (auto& t : group_tensors) {
      t.copy_(flat.narrow(0, offset, t.numel()).view(t.sizes()));
      offset += t.numel();
    }
  }
}

}  // namespace trellis::core::ddp
