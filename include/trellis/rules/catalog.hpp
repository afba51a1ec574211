// The single ordered list of compile-time rules: structure, then compatibility, then
// capacity, then names. Only the first broken rule of a pipeline is reported.
#pragma once
#include "trellis/diagnostics.hpp"
#include "trellis/rules/capacity.hpp"
#include "trellis/rules/compatibility.hpp"
#include "trellis/rules/names.hpp"
#include "trellis/rules/structure.hpp"

namespace trellis::rules {

using catalog = rule_list<
    // structure
    E008_unknown_parameter<>, E009_duplicate_parameter<>, E010_missing_required_parameter<>,
    E002_duplicate_stage<>, E001_stage_order<>, E003_train_requires_dataset<>,
    E004_register_requires_train<>, E005_export_requires_train<>,
    E006_export_requires_static_shape<>, E007_distributed_requires_compute<>,
    // compatibility
    E016_retired_vm_size<>, E011_nccl_requires_gpu<>, E012_gpu_requires_cuda_environment<>,
    E013_mpi_requires_mpi_environment<>, E014_reserved_environment_name<>,
    E037_no_official_torch_build<>, E015_cuda_unsupported_by_gpu<>,
    E036_low_priority_on_local_target<>, E017_low_priority_requires_checkpoints<>,
    E018_model_not_exportable<>, E019_opset_out_of_range<>, E020_restarts_require_checkpoints<>,
    E021_azure_requires_environment<>, E022_mpi_launches_per_process<>,
    // capacity
    E025_zero_count<>, E023_procs_exceed_gpus<>, E024_nodes_exceed_max_nodes<>,
    E026_global_batch_not_divisible<>, E027_min_nodes_exceed_max_nodes<>,
    E028_local_gpus_exceeded<>, E029_too_few_classes<>,
    // names
    E030_invalid_model_name<>, E031_invalid_experiment_name<>, E032_invalid_compute_name<>,
    E033_invalid_environment_name<>, E038_select_best_on_test<>, E034_best_metric_not_logged<>,
    E035_invalid_transfer_source<>>;

}  // namespace trellis::rules
