// pipeline_facts: every value a rule reads, gathered stage by stage into a constexpr struct.
// Rules are then plain constexpr predicates on values, so checking a pipeline costs a constant
// evaluation instead of hundreds of template instantiations (the per-pipeline compile-time
// budget is a few milliseconds).
#pragma once
#include <cstddef>
#include <type_traits>

#include "trellis/params/param.hpp"
#include "trellis/stages/compute.hpp"
#include "trellis/stages/dataset.hpp"
#include "trellis/stages/distributed.hpp"
#include "trellis/stages/environment.hpp"
#include "trellis/stages/export_onnx.hpp"
#include "trellis/stages/register_model.hpp"
#include "trellis/stages/stage.hpp"
#include "trellis/stages/train.hpp"
#include "trellis/text.hpp"

namespace trellis {

struct pipeline_facts {
  // structure, kept as flags as stages are added (facts are copied once per `|`)
  std::size_t count = 0;
  stage_order last_order{};
  bool out_of_order = false, repeated_stage = false;
  bool has[static_cast<std::size_t>(stage_order::count)]{};
  bool unknown_param = false, repeated_param = false, missing_param = false;
  // dataset
  bool static_shape = false, dataset_complete = false;
  std::size_t classes = 0;
  // environment
  std::size_t env_cuda = 0;
  bool env_mpi = false, env_curated = false;
  text_view env_name;
  // compute (defaults: local::cpu)
  bool target_local = true, target_retired = false, target_gpu = false, low_priority = false;
  std::size_t gpus_per_node = 0, gpu_min_cuda = 0, gpu_max_cuda = 0;
  std::size_t max_nodes = 1, min_nodes = 0;
  text_view cluster_name;
  // distributed (defaults: one PyTorch process)
  bool mpi = false, per_node = false, nccl = false, gloo = false;
  std::size_t nodes = 1, procs = 1, max_restarts = 0;
  // train
  std::size_t epochs = 1, global_batch = 0, checkpoint_every = 1;
  bool has_global_batch = false, logs_best_metric = true, exportable = true;
  text_view experiment = "trellis", transfer;
  // register_model, export_onnx
  text_view model_name;
  std::size_t opset = 17;

  [[nodiscard]] constexpr bool with(stage_order o) const { return has[static_cast<std::size_t>(o)]; }
  [[nodiscard]] constexpr std::size_t world_size() const { return nodes * procs; }
  /// NCCL when asked for, or by default on GPUs (PyTorch DDP and Horovod-style mpi alike).
  [[nodiscard]] constexpr bool uses_nccl() const { return nccl || (!gloo && target_gpu); }
};

namespace detail {
/// The facts every stage adds (rules E001, E002, E008-E010); false for a repeated stage, which
/// keeps the values of its first occurrence (rule E002 reports it). Not a template, so it is
/// compiled once rather than once per stage type.
constexpr bool add_structure(pipeline_facts& f, stage_order order, bool unknown_param,
                             bool repeated_param, bool missing_param) {
  f.out_of_order = f.out_of_order || (f.count > 0 && order < f.last_order);
  f.last_order = order;
  ++f.count;
  // every occurrence: E008-E010 come before E002 in the catalog
  f.unknown_param = f.unknown_param || unknown_param;
  f.repeated_param = f.repeated_param || repeated_param;
  f.missing_param = f.missing_param || missing_param;
  if (f.with(order)) {
    f.repeated_stage = true;
    return false;
  }
  f.has[static_cast<std::size_t>(order)] = true;
  return true;
}
}  // namespace detail

/// The facts of a pipeline one stage longer: each `|` adds its stage to the facts of the
/// pipeline it extends, so a pipeline of n stages reads each stage's traits once, not n times.
template <class S>
constexpr pipeline_facts with_stage(const pipeline_facts& prefix) {
  pipeline_facts f = prefix;
  if (!detail::add_structure(
          f, S::order, !kinds_accepted_v<typename S::accepted_kinds, typename S::param_kinds>,
          kinds_repeated_v<typename S::param_kinds>, !S::has_required_params))
    return f;
  if constexpr (S::order == stage_order::dataset) {
    f.static_shape = S::has_static_shape;
    f.dataset_complete = S::has_required_params;
    f.classes = S::classes;
  } else if constexpr (S::order == stage_order::environment) {
    f.env_cuda = S::cuda_version;
    f.env_mpi = S::mpi;
    f.env_curated = S::is_curated;
    f.env_name = S::name;
  } else if constexpr (S::order == stage_order::compute) {
    using T = typename S::target;
    f.target_local = T::is_local;
    f.target_retired = T::retired;
    f.target_gpu = is_gpu_target_v<T>;
    f.low_priority = std::is_same_v<typename S::priority, low_priority>;
    f.gpus_per_node = T::gpus_per_node;
    f.gpu_min_cuda = T::gpu::min_cuda;
    f.gpu_max_cuda = T::gpu::max_cuda;
    f.max_nodes = S::max_nodes;
    f.min_nodes = S::min_nodes;
    f.cluster_name = S::cluster_name;
  } else if constexpr (S::order == stage_order::distributed) {
    f.mpi = std::is_same_v<typename S::framework, trellis::mpi>;
    f.per_node = std::is_same_v<typename S::launch, trellis::per_node>;
    f.nccl = std::is_same_v<typename S::collective, trellis::nccl>;
    f.gloo = std::is_same_v<typename S::collective, trellis::gloo>;
    f.nodes = S::nodes;
    f.procs = S::procs;
    f.max_restarts = S::max_restarts;
  } else if constexpr (S::order == stage_order::train) {
    f.epochs = S::epochs;
    f.has_global_batch = S::has_global_batch;
    f.global_batch = S::global_batch;
    f.checkpoint_every = S::checkpoint_every;
    f.logs_best_metric = S::logs_best_metric;
    f.exportable = S::model::onnx_exportable;
    f.experiment = S::experiment;
    f.transfer = S::transfer::name;
  } else if constexpr (S::order == stage_order::register_model) {
    f.model_name = S::name;
  } else {  // export_onnx
    f.opset = S::opset;
  }
  return f;
}


}  // namespace trellis
