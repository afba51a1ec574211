// make_plan: from a checked pipeline and the command line to a run plan: which backend,
// the rank map, the collective, the effective per-rank batch, and the checks (settings within
// their limits, dataset layout, GPUs, rendezvous address and port, workspace), all decided
// before any process or cloud resource starts.
#pragma once
#include <chrono>
#include <cstddef>
#include <string>
#include <type_traits>

#include "trellis/cli/options.hpp"
#include "trellis/pipeline.hpp"
#include "trellis/posix/address.hpp"
#include "trellis/plan/dataset_layout.hpp"
#include "trellis/plan/field_values.hpp"
#include "trellis/plan/machine.hpp"
#include "trellis/plan/run_plan.hpp"
#include "trellis/plan/settings_check.hpp"

namespace trellis::plan {

/// A local run's rendezvous: master_addr resolves, within timeout_s, to an address of this
/// machine (every rank runs here), and nobody listens on master_port there.
inline void check_rendezvous(run_plan& plan) {
  const auto host = posix::resolve_host(plan.master_addr, std::chrono::seconds(plan.timeout_s));
  const std::string where = plan.master_addr + ":" + std::to_string(plan.master_port);
  machine_check address{"rendezvous.address", false, ""};
  if (!host.ok())
    address.detail = "distributed.master_addr '" + plan.master_addr + "' does not resolve: " +
                     host.error + ". Fix: --set distributed.master_addr=127.0.0.1";
  else if (!posix::is_local_address(host))
    address.detail = "distributed.master_addr '" + plan.master_addr + "' (" + host.text() +
                     ") is not an address of this machine, where a local run starts every rank. "
                     "Fix: --set distributed.master_addr=127.0.0.1";
  else
    address = {"rendezvous.address", true,
               "'" + plan.master_addr + "' is this machine (" + host.text() + ")"};
  plan.checks.push_back(address);
  if (!address.ok) return;
  const bool free = posix::port_is_free(host, plan.master_port);
  plan.checks.push_back(
      {"rendezvous.port", free,
       where + (free ? " is free"
                     : " is in use; choose another with --set distributed.master_port=N")});
}

/// The rank map: nodes x procs, node-major. Local runs put every node on this machine.
inline void fill_ranks(run_plan& plan, bool use_gpus) {
  plan.ranks.clear();
  for (std::size_t node = 0; node < plan.nodes; ++node)
    for (std::size_t local = 0; local < plan.procs; ++local)
      plan.ranks.push_back(
          rank_slot_of(node, local, plan.procs, plan.backend == backend_kind::local, use_gpus));
}

template <class Pipeline>
run_plan make_plan(const Pipeline& p, const cli::options& o) {
  using V = pipeline_view_t<Pipeline>;
  using target = typename V::target;
  run_plan plan;
  plan.program = o.program;
  plan.workspace = o.workspace;
  plan.backend = o.backend.empty() ? (target::is_local ? backend_kind::local : backend_kind::azure)
                 : o.backend == name_of(backend_kind::azure) ? backend_kind::azure
                                                             : backend_kind::local;
  plan.framework = std::is_same_v<typename V::distributed::framework, mpi> ? framework_kind::mpi
                                                                    : framework_kind::pytorch;
  plan.launch = std::is_same_v<typename V::distributed::launch, per_node> ? launch_kind::per_node
                                                                   : launch_kind::per_process;
  plan.nodes = V::distributed::facts.nodes;
  plan.procs = V::distributed::facts.procs;
  plan.max_restarts = V::distributed::facts.max_restarts;
  plan.target = to_std(target::name);
  plan.target_is_local = target::is_local;
  plan.gpus_per_node = target::gpus_per_node;
  const typename V::distributed defaults{};
  const auto* dist = &defaults;
  if constexpr (V::has_distributed) dist = &get<stage_order::distributed>(p);
  plan.master_addr = to_std(dist->master_addr.view());
  plan.master_port = dist->master_port;
  plan.timeout_s = dist->timeout_s;
  if constexpr (V::has_train) {
    plan.batch_per_rank = V::train::facts.has_global_batch
                              ? V::train::facts.global_batch / plan.world_size()
                              : get<stage_order::train>(p).batch;
  }
  plan.checks.push_back(settings_check(p));

  const bool wants_nccl = V::uses_nccl;
  const std::size_t gpus_here = local_gpu_count();
  bool use_gpus = wants_nccl;
  if (plan.backend == backend_kind::azure) {
    plan.mode = "azure: " + std::to_string(plan.nodes) + " x " + plan.target + " in cluster '" +
                std::string{to_std(V::compute::facts.cluster_name)} + "'";
  } else if (target::is_local) {
    plan.mode = "local";
    if (wants_nccl)
      plan.checks.push_back({"local.gpus", gpus_here >= plan.world_size(),
                             std::to_string(plan.world_size()) +
                                 " ranks need as many GPUs; this machine has " +
                                 std::to_string(gpus_here)});
  } else {
    use_gpus = wants_nccl && gpus_here >= plan.world_size();
    plan.mode = "local rehearsal of the Azure job on " + plan.target + ": ";
    plan.mode += use_gpus ? "NCCL on " + std::to_string(plan.world_size()) + " local GPUs"
                          : (wants_nccl ? "Gloo on CPU instead of NCCL (this machine has " +
                                              std::to_string(gpus_here) + " GPUs, the job has " +
                                              std::to_string(plan.world_size()) + " ranks)"
                                        : "Gloo on CPU, as on Azure");
  }
  plan.collective = use_gpus ? collective_kind::nccl : collective_kind::gloo;
  if (std::is_same_v<typename V::distributed::collective, gloo>) {
    plan.collective = collective_kind::gloo;
    use_gpus = false;
  }
  fill_ranks(plan, use_gpus);

  if constexpr (V::has_dataset) {
    // Azure jobs upload a local dataset folder, so it is checked for both backends; only a
    // data asset URI is left to Azure.
    const auto& data = get<stage_order::dataset>(p);
    const std::string root{to_std(data.root.view())};
    if (root.rfind("azureml:", 0) != 0) {
      if (std::is_same_v<typename V::dataset::source, idx>)
        plan.checks.push_back(check_idx_layout(root, data.val_split));
      else
        plan.checks.push_back(
            check_image_folder_layout(root, V::dataset::facts.classes, data.val_split));
    }
  }
  // A rendezvous check needs settings within their limits (a timeout_s of a year would wait).
  if (plan.backend == backend_kind::local && plan.world_size() > 1 && plan.checks.front().ok)
    check_rendezvous(plan);
  plan.checks.push_back(
      {"workspace.writable", can_write_folder(o.workspace),
       "'" + o.workspace + "'" +
           (can_write_folder(o.workspace) ? " can be written" : " cannot be written")});
  return plan;
}

}  // namespace trellis::plan
