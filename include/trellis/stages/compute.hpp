// compute<target, max_nodes<N>, min_nodes<N>, priority, cluster<"name">>: where ranks run.
// Rules: E016 (retired sizes), E017/E036 (low priority), E024/E027 (node counts), E032 (name).
#pragma once
#include <cstddef>

#include "trellis/text.hpp"
#include "trellis/params/param.hpp"
#include "trellis/params/topology.hpp"
#include "trellis/stages/stage.hpp"
#include "trellis/targets/azure_vms.hpp"
#include "trellis/targets/local.hpp"

namespace trellis {

/// What the rules read of a `compute`; the defaults stand for a pipeline without one.
struct compute_facts {
  param_flags params;
  bool is_local = true, retired = false, has_gpus = false, low_priority = false;
  std::size_t gpus_per_node = 0, gpu_min_cuda = 0, gpu_max_cuda = 0;
  std::size_t max_nodes = 1, min_nodes = 0;
  text_view cluster_name;
};

/// What a `compute` has of a kind when no parameter of that kind is given; `absent` where the
/// default depends on the target (see max_nodes and cluster_name).
struct compute_defaults {
  using compute_target = local::cpu;
  using max_nodes = absent;
  using min_nodes = trellis::min_nodes<0>;
  using priority = dedicated;
  using cluster = absent;
};

template <class... Ps>
struct compute {
  static constexpr stage_order order = stage_order::compute;
  using accepted_kinds = kind_list<kinds::compute_target, kinds::max_nodes, kinds::min_nodes,
                                   kinds::priority, kinds::cluster>;
  using required_kinds = kind_list<kinds::compute_target>;
  using param_kinds = kinds_of<Ps...>;
  /// The parameters given, over the defaults: see given_t.
  using given = given_t<compute_defaults, Ps...>;
  using target = typename given::compute_target;
  using priority = typename given::priority;
  // One constant holds every compile-time value: a static member each would be declared, and
  // given a symbol, again for every compute type.
  static constexpr compute_facts facts{
      .params = param_flags_v<accepted_kinds, required_kinds, param_kinds>,
      .is_local = target::is_local,
      .retired = target::retired,
      .has_gpus = is_gpu_target_v<target>,
      .low_priority = __is_same(priority, low_priority),
      .gpus_per_node = target::gpus_per_node,
      .gpu_min_cuda = target::gpu::min_cuda,
      .gpu_max_cuda = target::gpu::max_cuda,
      .max_nodes = value_or<typename given::max_nodes>(target::is_local ? 1 : 4),
      .min_nodes = given::min_nodes::value,
      .cluster_name = name_or<typename given::cluster>(is_gpu_target_v<target> ? "trellis-gpu"
                                                                               : "trellis-cpu")};

  std::size_t idle_seconds_before_scaledown = 1800;  ///< Azure scales idle nodes down after this

  template <class Self, class Fields>
  static void fields(Self& self, Fields& f) {
    f.fixed("target", target::name);
    f.fixed("gpus_per_node", target::gpus_per_node);
    f.fixed("gpu", target::gpu::name);
    if constexpr (!target::is_local) {
      f.fixed("vcpus", target::vcpus);
      f.fixed("gpu_memory_gib", target::gpu::memory_gib);
      f.fixed("infiniband", target::infiniband);
      f.fixed("cluster", facts.cluster_name);
      f.fixed("max_nodes", facts.max_nodes);
      f.fixed("min_nodes", facts.min_nodes);
      f.fixed("priority", priority::name);
    }
    f.setting("idle_seconds_before_scaledown", self.idle_seconds_before_scaledown);
  }
};

}  // namespace trellis
