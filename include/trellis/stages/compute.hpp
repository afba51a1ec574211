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
  bool is_local = true, retired = false, has_gpus = false, low_priority = false;
  std::size_t gpus_per_node = 0, gpu_min_cuda = 0, gpu_max_cuda = 0;
  std::size_t max_nodes = 1, min_nodes = 0;
  text_view cluster_name;
};

template <class... Ps>
struct compute {
  static constexpr stage_order order = stage_order::compute;
  using accepted_kinds = kind_list<kinds::compute_target, kinds::max_nodes, kinds::min_nodes,
                                   kinds::priority, kinds::cluster>;
  using params = kind_list<Ps...>;
  using param_kinds = kinds_of<Ps...>;
  using target = param_t<kinds::compute_target, local::cpu, Ps...>;
  using priority = param_t<kinds::priority, dedicated, Ps...>;
  static constexpr bool has_required_params = has_kind_v<kinds::compute_target, param_kinds>;
  static constexpr std::size_t max_nodes =
      param_t<kinds::max_nodes, trellis::max_nodes<target::is_local ? 1 : 4>, Ps...>::value;
  static constexpr std::size_t min_nodes = param_t<kinds::min_nodes, trellis::min_nodes<0>, Ps...>::value;
  static constexpr bool has_max_nodes = has_kind_v<kinds::max_nodes, param_kinds>;
  static constexpr text_view cluster_name =
      param_t<kinds::cluster,
              cluster<is_gpu_target_v<target> ? "trellis-gpu" : "trellis-cpu">, Ps...>::name;
  static constexpr compute_facts facts{target::is_local,
                                       target::retired,
                                       is_gpu_target_v<target>,
                                       std::is_same_v<priority, low_priority>,
                                       target::gpus_per_node,
                                       target::gpu::min_cuda,
                                       target::gpu::max_cuda,
                                       max_nodes,
                                       min_nodes,
                                       cluster_name};

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
      f.fixed("cluster", cluster_name);
      f.fixed("max_nodes", max_nodes);
      f.fixed("min_nodes", min_nodes);
      f.fixed("priority", priority::name);
    }
    f.setting("idle_seconds_before_scaledown", self.idle_seconds_before_scaledown);
  }
};

}  // namespace trellis
