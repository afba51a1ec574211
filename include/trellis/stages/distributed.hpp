// distributed<framework, nodes<N>, procs<P>, max_restarts<N>, launch, collective>: the rank
// map. Rules: E007 (needs compute), E011/E013 (back end), E020, E023-E025, E026, E028.
#pragma once
#include <cstddef>
#include <cstdint>

#include "trellis/text.hpp"
#include "trellis/params/param.hpp"
#include "trellis/params/topology.hpp"
#include "trellis/stages/stage.hpp"

namespace trellis {

/// What the rules read of a `distributed`; the defaults stand for a pipeline without one.
struct distributed_facts {
  param_flags params;
  bool mpi = false, per_node = false, nccl = false, gloo = false;
  std::size_t nodes = 1, procs = 1, max_restarts = 0;
};

/// Marks "let the compute target choose": NCCL on GPUs, Gloo on CPUs.
struct auto_collective final {
  using kind = kinds::collective;
  static constexpr text_view name = "auto";
};

/// What a `distributed` has of a kind when no parameter of that kind is given.
struct distributed_defaults {
  using framework = pytorch;
  using nodes = trellis::nodes<1>;
  using procs = trellis::procs<1>;
  using max_restarts = trellis::max_restarts<0>;
  using launch = per_process;
  using collective = auto_collective;
};

template <class... Ps>
struct distributed {
  static constexpr stage_order order = stage_order::distributed;
  using accepted_kinds = kind_list<kinds::framework, kinds::nodes, kinds::procs,
                                   kinds::max_restarts, kinds::launch, kinds::collective>;
  using required_kinds = kind_list<kinds::framework>;
  using param_kinds = kinds_of<Ps...>;
  /// The parameters given, over the defaults: see given_t.
  using given = given_t<distributed_defaults, Ps...>;
  using framework = typename given::framework;
  using launch = typename given::launch;
  using collective = typename given::collective;
  // One constant holds every compile-time value, as in the other stages.
  static constexpr distributed_facts facts{
      .params = param_flags_v<accepted_kinds, required_kinds, param_kinds>,
      .mpi = __is_same(framework, trellis::mpi),
      .per_node = __is_same(launch, trellis::per_node),
      .nccl = __is_same(collective, trellis::nccl),
      .gloo = __is_same(collective, trellis::gloo),
      .nodes = given::nodes::value,
      .procs = given::procs::value,
      .max_restarts = given::max_restarts::value};

  text master_addr = "127.0.0.1";  ///< local runs; Azure sets MASTER_ADDR itself
  std::uint16_t master_port = 29500;
  std::size_t timeout_s = 30;  ///< every collective fails after this many seconds

  template <class Self, class Fields>
  static void fields(Self& self, Fields& f) {
    f.fixed("framework", framework::name);
    f.fixed("nodes", facts.nodes);
    f.fixed("procs", facts.procs);
    f.fixed("max_restarts", facts.max_restarts);
    f.fixed("launch", launch::name);
    f.fixed("collective", collective::name);
    // The plan resolves master_addr (and checks that a local run's is this machine's).
    f.setting("master_addr", self.master_addr, not_empty);
    f.setting("master_port", self.master_port, between(1, 65535));
    f.setting("timeout_s", self.timeout_s, between(1, 86400));
  }
};

}  // namespace trellis
