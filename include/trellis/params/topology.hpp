// Topology and placement parameters: nodes<N>, procs<P>, max_nodes, min_nodes, gpus,
// max_restarts, launch modes, collective back ends and VM priority. Checked by E023-E028.
#pragma once
#include <cstddef>

#include "trellis/text.hpp"
#include "trellis/fixed_string.hpp"
#include "trellis/params/param.hpp"

namespace trellis {

namespace kinds {
TRELLIS_KIND(nodes);
TRELLIS_KIND(procs);
TRELLIS_KIND(max_nodes);
TRELLIS_KIND(min_nodes);
TRELLIS_KIND(gpus);
TRELLIS_KIND(max_restarts);
TRELLIS_KIND(launch);
TRELLIS_KIND(collective);
TRELLIS_KIND(priority);
TRELLIS_KIND(framework);
TRELLIS_KIND(cluster);
}  // namespace kinds

/// DDP over c10d: Gloo on CPUs, NCCL on GPUs (Azure's `PyTorch` distribution).
struct pytorch final {
  using kind = kinds::framework;
  static constexpr text_view name = "PyTorch";
};
/// Ranks launched by mpirun, as Horovod does (Azure's `Mpi` distribution).
struct mpi final {
  using kind = kinds::framework;
  static constexpr text_view name = "Mpi";
};
/// The spellings of Azure ML's how-to: distributed<PyTorch, ...>, distributed<Horovod, ...>.
using PyTorch = pytorch;
using Horovod = mpi;

/// The compute cluster's name (Azure rule: 3-24 letters, digits, hyphens; rule E032).
template <fixed_string Name>
struct cluster {
  using kind = kinds::cluster;
  static constexpr text_view name = Name.view();
};

template <std::size_t N>
struct nodes {
  using kind = kinds::nodes;
  static constexpr std::size_t value = N;
};
template <std::size_t N>
struct procs {
  using kind = kinds::procs;
  static constexpr std::size_t value = N;
};
template <std::size_t N>
struct max_nodes {
  using kind = kinds::max_nodes;
  static constexpr std::size_t value = N;
};
template <std::size_t N>
struct min_nodes {
  using kind = kinds::min_nodes;
  static constexpr std::size_t value = N;
};
template <std::size_t N>
struct gpus {
  using kind = kinds::gpus;
  static constexpr std::size_t value = N;
};
/// Restart the whole job from its last checkpoint up to N times after a failure.
template <std::size_t N>
struct max_restarts {
  using kind = kinds::max_restarts;
  static constexpr std::size_t value = N;
};

/// The backend starts every rank itself.
struct per_process final {
  using kind = kinds::launch;
  static constexpr text_view name = "per_process";
};
/// One launcher per node starts that node's ranks (like torch.distributed.launch).
struct per_node final {
  using kind = kinds::launch;
  static constexpr text_view name = "per_node";
};

/// Collective back ends; without one, `distributed` uses NCCL on GPUs and Gloo on CPUs.
struct gloo final {
  using kind = kinds::collective;
  static constexpr text_view name = "gloo";
};
struct nccl final {
  using kind = kinds::collective;
  static constexpr text_view name = "nccl";
};

struct dedicated final {
  using kind = kinds::priority;
  static constexpr text_view name = "Dedicated";
};
/// Preemptible VMs: cheaper, but a job must checkpoint to survive eviction (rule E017); Azure
/// compute only (rule E036).
struct low_priority final {
  using kind = kinds::priority;
  static constexpr text_view name = "LowPriority";
};

}  // namespace trellis
