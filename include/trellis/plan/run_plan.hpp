// The run plan: what will run where, decided before anything starts. Built from a checked
// pipeline by plan/make_plan.hpp; backends consume it, --dry-run writes it as JSON.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trellis/params/topology.hpp"

namespace trellis::plan {

/// Which backend runs the plan, Azure's distribution, how ranks start and the collective
/// library: compared as enums, and spelled only by name_of (the topology's names, which
/// plan.json, Azure's job body and the ranks' TRELLIS_COLLECTIVE use).
enum class backend_kind { local, azure };
enum class framework_kind { pytorch, mpi };
enum class launch_kind { per_process, per_node };
enum class collective_kind { gloo, nccl };

namespace detail {
constexpr std::string_view view(text_view t) { return {t.data(), t.size()}; }
}  // namespace detail

constexpr std::string_view name_of(backend_kind b) {
  return b == backend_kind::local ? "local" : "azure";
}
constexpr std::string_view name_of(framework_kind f) {
  return detail::view(f == framework_kind::mpi ? trellis::mpi::name : trellis::pytorch::name);
}
constexpr std::string_view name_of(launch_kind l) {
  return detail::view(l == launch_kind::per_node ? trellis::per_node::name
                                                 : trellis::per_process::name);
}
constexpr std::string_view name_of(collective_kind c) {
  return detail::view(c == collective_kind::nccl ? trellis::nccl::name : trellis::gloo::name);
}

/// The collective a rank's TRELLIS_COLLECTIVE names; Gloo when it names none.
inline collective_kind collective_named(std::string_view name) {
  return name == name_of(collective_kind::nccl) ? collective_kind::nccl : collective_kind::gloo;
}

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
  std::string program;
  backend_kind backend = backend_kind::local;
  std::string mode, workspace;
  framework_kind framework = framework_kind::pytorch;
  launch_kind launch = launch_kind::per_process;
  collective_kind collective = collective_kind::gloo;
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
    return names + ": not carried out by the " + std::string{name_of(backend)} +
           " backend in this version";
  }
};

}  // namespace trellis::plan
