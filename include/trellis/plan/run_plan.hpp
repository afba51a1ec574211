// The run plan: what will run where, decided before anything starts. Built from a checked
// pipeline by plan/make_plan.hpp; backends consume it, --dry-run writes it as JSON.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace trellis::plan {

/// One process of the job.
struct rank_slot {
  std::size_t global_rank = 0, node = 0, local_rank = 0;
  std::string device;  ///< "cpu" or "cuda:<index>"
};

/// The slot of a node's local rank, node-major. When every node shares one machine (local runs)
/// a rank's GPU is its global rank there; on separate machines it is its local rank.
inline rank_slot rank_slot_of(std::size_t node, std::size_t local_rank, std::size_t procs,
                              bool one_machine, bool use_gpus) {
  const std::size_t global = node * procs + local_rank;
  const std::size_t gpu = one_machine ? global : local_rank;
  return {global, node, local_rank, use_gpus ? "cuda:" + std::to_string(gpu) : "cpu"};
}

/// A check that needs the machine (paths, GPUs, ports); all run before any process starts.
struct machine_check {
  std::string name;
  bool ok = false;
  std::string detail;
};

/// The registered model version a transfer_from starts from, resolved (and its file's SHA-256
/// checked) by the workspace before any rank starts, so that every rank loads the same file.
struct transfer_source {
  std::string model;  ///< "name:version"
  std::string file;
  std::string sha256;
};

struct run_plan {
  std::string program, backend, mode, workspace;
  std::string framework, launch, collective;
  std::string master_addr;
  std::uint16_t master_port = 0;
  std::size_t timeout_s = 0, nodes = 1, procs = 1, max_restarts = 0;
  /// Samples per rank and micro-batch: train.batch, or global_batch<N> / world size.
  std::size_t batch_per_rank = 0;
  std::string target;
  bool target_is_local = true;
  std::size_t gpus_per_node = 0;
  std::vector<rank_slot> ranks;
  std::vector<machine_check> checks;
  std::optional<transfer_source> transfer;
  /// Stages of the pipeline this backend does not carry out in this version (their keywords).
  std::vector<std::string> not_carried_out;

  [[nodiscard]] std::size_t world_size() const { return nodes * procs; }
  [[nodiscard]] bool ok() const {
    for (const auto& c : checks)
      if (!c.ok) return false;
    return true;
  }
  /// "register_model, export_onnx: not carried out by the local backend in this version", or ""
  /// when every stage is carried out; the plan summary and the end of a run both say it.
  [[nodiscard]] std::string not_carried_out_sentence() const {
    if (not_carried_out.empty()) return "";
    std::string names;
    for (const auto& stage : not_carried_out) names += (names.empty() ? "" : ", ") + stage;
    return names + ": not carried out by the " + backend + " backend in this version";
  }
};

}  // namespace trellis::plan
