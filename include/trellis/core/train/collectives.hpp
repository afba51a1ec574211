// The trainer's few collectives besides the reducer's: sums of scalars (losses, counts) and the
// gathering of one equally sized row per rank (RNG states for a checkpoint). Without a group, or
// with a one-rank group, they are local no-ops.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "trellis/core/ddp/process_group.hpp"

namespace trellis::core::train_detail {

inline bool distributed(const ddp::process_group* group) { return group && group->size() > 1; }

/// Each value summed over all ranks (in float64, so counts stay exact).
inline std::vector<double> sum_over_ranks(ddp::process_group* group, std::vector<double> values,
                                          const std::string& what) {
  if (!distributed(group) || values.empty()) return values;
  auto t = torch::tensor(values, torch::kFloat64).to(group->device());
  group->wait(group->allreduce_sum(t), what);
  t = t.to(torch::kCPU);
  for (std::size_t i = 0; i < values.size(); ++i)
    values[i] = t[static_cast<std::int64_t>(i)].item<double>();
  return values;
}

/// [world size, n] uint8: row r is rank r's `row` (n bytes, the same n on every rank). An
/// allreduce of rows that are zero except the rank's own, so Gloo and NCCL both do it.
inline torch::Tensor gather_rows(ddp::process_group* group, const torch::Tensor& row,
                                 const std::string& what) {
  if (!distributed(group)) return row.reshape({1, -1}).clone();
  auto all = torch::zeros({group->size(), row.numel()}, torch::kInt32);
  all[group->rank()].copy_(row.reshape(-1).to(torch::kInt32));
  all = all.to(group->device());
  group->wait(group->allreduce_sum(all), what);
  return all.to(torch::kCPU).to(torch::kUInt8);
}

}  // namespace trellis::core::train_detail
