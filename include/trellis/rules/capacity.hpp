// Capacity rules E023-E029: ranks vs GPUs per node, nodes vs the cluster size, zero counts,
// global batch vs world size, and class counts.
#pragma once
#include <cstddef>

#include "trellis/text.hpp"
#include "trellis/diagnostics.hpp"
#include "trellis/pipeline_view.hpp"
#include "trellis/rules/facts.hpp"

namespace trellis::rules {

// Not checked at compute: without a distributed, one process per node fits every GPU VM.
template <class... Ctx>
struct E023_procs_exceed_gpus : rule<stages(stage_order::distributed)> {
  static constexpr bool violated(const pipeline_facts& f) {
    return f.uses_nccl() && !f.compute->is_local && f.distributed->procs > f.compute->gpus_per_node;
  }
  template <class V>
  using context = E023_procs_exceed_gpus<procs<V::distributed::facts.procs>,
                                         gpus<V::target::gpus_per_node>, typename V::target>;
};
template <class... C>
constexpr void diagnose(E023_procs_exceed_gpus<C...>) {
  static_assert(dependent_false<C...>,
                "[trellis E023] distributed: procs<P> exceeds the GPUs per node of the compute "
                "target; NCCL needs one GPU per process. Fix: lower procs or pick a VM size with "
                "more GPUs.");
}

template <class... Ctx>
struct E024_nodes_exceed_max_nodes : rule<stages(stage_order::distributed)> {
  static constexpr bool violated(const pipeline_facts& f) {
    return f.has.distributed && !f.compute->is_local && f.distributed->nodes > f.compute->max_nodes;
  }
  template <class V>
  using context = E024_nodes_exceed_max_nodes<nodes<V::distributed::facts.nodes>,
                                              max_nodes<V::compute::facts.max_nodes>>;
};
template <class... C>
constexpr void diagnose(E024_nodes_exceed_max_nodes<C...>) {
  static_assert(dependent_false<C...>,
                "[trellis E024] distributed: nodes<N> exceeds the compute cluster's max_nodes. "
                "Fix: lower nodes or raise max_nodes in compute.");
}

template <class... Ctx>
struct E025_zero_count
    : rule<stages(stage_order::compute, stage_order::distributed, stage_order::train)> {
  static constexpr bool violated(const pipeline_facts& f) {
    return f.distributed->nodes == 0 || f.distributed->procs == 0 ||
           (f.has.train &&
            (f.train->epochs == 0 || (f.train->has_global_batch && f.train->global_batch == 0))) ||
           (f.has.compute &&
            (f.compute->max_nodes == 0 ||
             (f.compute->is_local && f.compute->has_gpus && f.compute->gpus_per_node == 0)));
  }
  template <class V>
  using context =
      E025_zero_count<nodes<V::distributed::facts.nodes>, procs<V::distributed::facts.procs>,
                      epochs<V::train::facts.epochs>, global_batch<V::train::facts.global_batch>,
                      max_nodes<V::compute::facts.max_nodes>, gpus<V::target::gpus_per_node>>;
};
template <class... C>
constexpr void diagnose(E025_zero_count<C...>) {
  static_assert(dependent_false<C...>,
                "[trellis E025] pipeline: a count is zero (nodes, procs, epochs, global_batch, "
                "max_nodes or local gpus). Fix: use at least 1.");
}

template <class... Ctx>
struct E026_global_batch_not_divisible : rule<stages(stage_order::train)> {
  static constexpr bool violated(const pipeline_facts& f) {
    return f.has.train && f.train->has_global_batch && f.world_size() != 0 &&
           f.train->global_batch % f.world_size() != 0;
  }
  template <class V>
  using context = E026_global_batch_not_divisible<global_batch<V::train::facts.global_batch>,
                                                  nodes<V::distributed::facts.nodes>,
                                                  procs<V::distributed::facts.procs>>;
};
template <class... C>
constexpr void diagnose(E026_global_batch_not_divisible<C...>) {
  static_assert(dependent_false<C...>,
                "[trellis E026] train: global_batch<N> does not divide by the world size "
                "(nodes x procs), so ranks would get unequal batches. Fix: use a multiple of the "
                "world size.");
}

template <class... Ctx>
struct E027_min_nodes_exceed_max_nodes : rule<stages(stage_order::compute)> {
  static constexpr bool violated(const pipeline_facts& f) {
    return f.compute->min_nodes > f.compute->max_nodes;
  }
  template <class V>
  using context = E027_min_nodes_exceed_max_nodes<min_nodes<V::compute::facts.min_nodes>,
                                                  max_nodes<V::compute::facts.max_nodes>>;
};
template <class... C>
constexpr void diagnose(E027_min_nodes_exceed_max_nodes<C...>) {
  static_assert(dependent_false<C...>,
                "[trellis E027] compute: min_nodes is larger than max_nodes. Fix: make min_nodes "
                "at most max_nodes.");
}

template <class... Ctx>
struct E028_local_gpus_exceeded : rule<stages(stage_order::compute, stage_order::distributed)> {
  static constexpr bool violated(const pipeline_facts& f) {
    return f.uses_nccl() && f.compute->is_local && f.world_size() > f.compute->gpus_per_node;
  }
  template <class V>
  using context =
      E028_local_gpus_exceeded<nodes<V::distributed::facts.nodes>,
                               procs<V::distributed::facts.procs>, gpus<V::target::gpus_per_node>>;
};
template <class... C>
constexpr void diagnose(E028_local_gpus_exceeded<C...>) {
  static_assert(dependent_false<C...>,
                "[trellis E028] distributed: nodes x procs exceeds the GPUs of local::cuda; local "
                "nodes share this machine and NCCL needs one GPU per rank. Fix: raise gpus<N> or "
                "lower nodes or procs.");
}

template <class... Ctx>
struct E029_too_few_classes : rule<stages(stage_order::dataset)> {
  static constexpr bool violated(const pipeline_facts& f) {
    return f.has.dataset && !f.dataset->params.missing && f.dataset->classes < 2;
  }
  template <class V>
  using context = E029_too_few_classes<classes<V::dataset::facts.classes>>;
};
template <class... C>
constexpr void diagnose(E029_too_few_classes<C...>) {
  static_assert(dependent_false<C...>,
                "[trellis E029] dataset: a classifier needs at least 2 classes. Fix: use "
                "classes<N> with N >= 2, the number of class folders or labels.");
}

}  // namespace trellis::rules
