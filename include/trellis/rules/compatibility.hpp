// Compatibility rules E011-E022, E036 and E037: collective back end vs device, environment vs
// GPU and MPI, reserved names, torch vs CUDA builds, CUDA vs GPU model, retired VM sizes,
// priority and checkpoint needs, ONNX export.
#pragma once
#include <type_traits>

#include "trellis/text.hpp"
#include "trellis/diagnostics.hpp"
#include "trellis/pipeline_view.hpp"
#include "trellis/rules/facts.hpp"
#include "trellis/targets/azure_vms.hpp"

namespace trellis::rules {

template <class... Ctx>
struct E011_nccl_requires_gpu : rule<stages(stage_order::distributed)> {
  static constexpr bool violated(const pipeline_facts& f) {
    return f.distributed->nccl && !f.compute->has_gpus;
  }
  template <class V>
  using context = E011_nccl_requires_gpu<nccl, typename V::target>;
};
template <class... C>
constexpr void diagnose(E011_nccl_requires_gpu<C...>) {
  static_assert(dependent_false<C...>,
                "[trellis E011] distributed: NCCL needs GPUs, but the compute target has none. "
                "Fix: drop nccl (Gloo is used on CPUs) or choose a GPU compute target.");
}

template <class... Ctx>
struct E012_gpu_requires_cuda_environment : rule<stages(stage_order::compute)> {
  static constexpr bool violated(const pipeline_facts& f) {
    return f.compute->has_gpus && f.has.environment && f.environment->cuda == 0;
  }
  template <class V>
  using context =
      E012_gpu_requires_cuda_environment<typename V::target, typename V::environment::source>;
};
template <class... C>
constexpr void diagnose(E012_gpu_requires_cuda_environment<C...>) {
  static_assert(dependent_false<C...>,
                "[trellis E012] environment: the compute target has GPUs but the environment has "
                "no CUDA. Fix: use curated::pytorch_cuda or give a custom environment cuda<M, m>.");
}

template <class... Ctx>
struct E013_mpi_requires_mpi_environment : rule<stages(stage_order::distributed)> {
  static constexpr bool violated(const pipeline_facts& f) {
    return f.distributed->mpi && f.has.environment && !f.environment->mpi;
  }
  template <class V>
  using context = E013_mpi_requires_mpi_environment<mpi, typename V::environment::source>;
};
template <class... C>
constexpr void diagnose(E013_mpi_requires_mpi_environment<C...>) {
  static_assert(dependent_false<C...>,
                "[trellis E013] environment: distributed<mpi> needs an MPI runtime, which this "
                "environment lacks. Fix: add with_mpi to a custom environment whose image has "
                "OpenMPI, or use a curated PyTorch preset.");
}

namespace detail {
constexpr bool starts_with_azureml(text_view name) {
  constexpr text_view prefix = "azureml";
  if (name.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = name[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}
}  // namespace detail

template <class... Ctx>
struct E014_reserved_environment_name : rule<stages(stage_order::environment)> {
  static constexpr bool violated(const pipeline_facts& f) {
    return f.has.environment && !f.environment->curated &&
           detail::starts_with_azureml(f.environment->name);
  }
  template <class V>
  using context = E014_reserved_environment_name<typename V::environment::source>;
};
template <class... C>
constexpr void diagnose(E014_reserved_environment_name<C...>) {
  static_assert(dependent_false<C...>,
                "[trellis E014] environment: custom environment names must not start with "
                "'AzureML', which Azure reserves for curated environments. Fix: rename it.");
}

template <class... Ctx>
struct E037_no_official_torch_build : rule<stages(stage_order::environment)> {
  static constexpr bool violated(const pipeline_facts& f) {
    return f.has.environment && !f.environment->official_build;
  }
  template <class V, std::size_t Torch = V::environment::facts.torch,
            std::size_t Cuda = V::environment::facts.cuda>
  using context = E037_no_official_torch_build<torch_version<Torch / 100, Torch % 100>,
                                               cuda<Cuda / 100, Cuda % 100>, built_for_t<Torch>>;
};
template <class... C>
constexpr void diagnose(E037_no_official_torch_build<C...>) {
  static_assert(dependent_false<C...>,
                "[trellis E037] environment: PyTorch publishes no build of this torch_version for "
                "this CUDA version, so the image cannot install it. Fix: use a CUDA version in "
                "built_for<...> (printed with this error), or another torch_version.");
}

template <class... Ctx>
struct E015_cuda_unsupported_by_gpu : rule<stages(stage_order::compute)> {
  static constexpr bool violated(const pipeline_facts& f) {
    return f.compute->has_gpus && f.has.environment && f.environment->cuda != 0 &&
           !(f.environment->cuda >= f.compute->gpu_min_cuda &&
             (f.compute->gpu_max_cuda == 0 || f.environment->cuda <= f.compute->gpu_max_cuda));
  }
  template <class V>
  using context = E015_cuda_unsupported_by_gpu<
      cuda<V::environment::facts.cuda / 100, V::environment::facts.cuda % 100>,
      typename V::target::gpu, typename V::target>;
};
template <class... C>
constexpr void diagnose(E015_cuda_unsupported_by_gpu<C...>) {
  static_assert(dependent_false<C...>,
                "[trellis E015] environment: its CUDA version cannot drive the GPU of the compute "
                "target (H100 needs CUDA 11.8+, A100 11.0+, T4 10.0+; CUDA 12 dropped K80, CUDA "
                "13 dropped V100). Fix: pick an environment with a CUDA version the GPU supports.");
}

template <class... Ctx>
struct E016_retired_vm_size : rule<stages(stage_order::compute)> {
  static constexpr bool violated(const pipeline_facts& f) { return f.compute->retired; }
  template <class V>
  using context = E016_retired_vm_size<typename V::target, typename V::target::retirement>;
};
// One message for every retired size: the replacement is in the context the compiler prints,
// `E016_retired_vm_size<azure::nc6, azure::replaced_by<azure::nc4as_t4_v3>>`.
template <class... C>
constexpr void diagnose(E016_retired_vm_size<C...>) {
  static_assert(dependent_false<C...>,
                "[trellis E016] compute: this VM size is retired, so Azure can no longer create "
                "it. Fix: use the size it is replaced_by<...> (printed with this error).");
}

template <class... Ctx>
struct E036_low_priority_on_local_target : rule<stages(stage_order::compute)> {
  static constexpr bool violated(const pipeline_facts& f) {
    return f.compute->low_priority && f.compute->is_local;
  }
  template <class V>
  using context = E036_low_priority_on_local_target<low_priority, typename V::target>;
};
template <class... C>
constexpr void diagnose(E036_low_priority_on_local_target<C...>) {
  static_assert(dependent_false<C...>,
                "[trellis E036] compute: low_priority is a priority of Azure ML compute; a local "
                "target is never preempted. Fix: remove low_priority, or pick an Azure VM size.");
}

template <class... Ctx>
struct E017_low_priority_requires_checkpoints : rule<stages(stage_order::train)> {
  static constexpr bool violated(const pipeline_facts& f) {
    return f.compute->low_priority && f.has.train && f.train->checkpoint_every == 0;
  }
  template <class V>
  using context = E017_low_priority_requires_checkpoints<low_priority, checkpoint_every<0>>;
};
template <class... C>
constexpr void diagnose(E017_low_priority_requires_checkpoints<C...>) {
  static_assert(dependent_false<C...>,
                "[trellis E017] train: low_priority compute can be preempted, but train writes no "
                "checkpoints. Fix: use checkpoint_every<N> with N > 0, or dedicated compute.");
}

template <class... Ctx>
struct E018_model_not_exportable : rule<stages(stage_order::export_onnx)> {
  static constexpr bool violated(const pipeline_facts& f) {
    return f.has.export_onnx && f.has.train && !f.train->exportable;
  }
  template <class V>
  using context = E018_model_not_exportable<typename V::train::model>;
};
template <class... C>
constexpr void diagnose(E018_model_not_exportable<C...>) {
  static_assert(dependent_false<C...>,
                "[trellis E018] export_onnx: the model type declares onnx_exportable = false. "
                "Fix: remove export_onnx or use a model that can be exported.");
}

template <class... Ctx>
struct E019_opset_out_of_range : rule<stages(stage_order::export_onnx)> {
  static constexpr bool violated(const pipeline_facts& f) {
    return f.has.export_onnx &&
           (f.export_onnx->opset < 7 || f.export_onnx->opset > 17);
  }
  template <class V>
  using context = E019_opset_out_of_range<opset<V::export_onnx::facts.opset>>;
};
template <class... C>
constexpr void diagnose(E019_opset_out_of_range<C...>) {
  static_assert(dependent_false<C...>,
                "[trellis E019] export_onnx: the opset is outside 7..17, the range of ONNX 1.12 "
                "(IR 8). Fix: use opset<17> or another opset from 7 to 17.");
}

template <class... Ctx>
struct E020_restarts_require_checkpoints : rule<stages(stage_order::train)> {
  static constexpr bool violated(const pipeline_facts& f) {
    return f.distributed->max_restarts > 0 && f.has.train &&
           f.train->checkpoint_every == 0;
  }
  template <class V>
  using context =
      E020_restarts_require_checkpoints<max_restarts<V::distributed::facts.max_restarts>,
                                        checkpoint_every<0>>;
};
template <class... C>
constexpr void diagnose(E020_restarts_require_checkpoints<C...>) {
  static_assert(dependent_false<C...>,
                "[trellis E020] train: distributed asks for max_restarts, but train writes no "
                "checkpoint to restart from. Fix: use checkpoint_every<N> with N > 0.");
}

template <class... Ctx>
struct E021_azure_requires_environment : rule<stages(stage_order::train)> {
  static constexpr bool violated(const pipeline_facts& f) {
    return !f.compute->is_local && f.has.train && !f.has.environment;
  }
  template <class V>
  using context = E021_azure_requires_environment<typename V::target>;
};
template <class... C>
constexpr void diagnose(E021_azure_requires_environment<C...>) {
  static_assert(
      dependent_false<C...>,
      "[trellis E021] environment: an Azure compute target needs an environment to run "
      "the job in. Fix: add environment<curated::pytorch_cuda> (or a CPU or custom one).");
}

template <class... Ctx>
struct E022_mpi_launches_per_process : rule<stages(stage_order::distributed)> {
  static constexpr bool violated(const pipeline_facts& f) {
    return f.distributed->mpi && f.distributed->per_node;
  }
  template <class V>
  using context = E022_mpi_launches_per_process<mpi, per_node>;
};
template <class... C>
constexpr void diagnose(E022_mpi_launches_per_process<C...>) {
  static_assert(dependent_false<C...>,
                "[trellis E022] distributed: mpirun starts every rank itself, so mpi cannot use "
                "per_node launchers. Fix: drop per_node, or use pytorch with per_node.");
}

}  // namespace trellis::rules
