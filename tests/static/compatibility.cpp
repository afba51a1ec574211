// Compatibility rules E011-E022, E036 and E037 as check results: collective back end vs device,
// environment vs GPU, MPI and reserved names, torch vs CUDA builds, CUDA vs GPU model, retired
// VM sizes, priority and checkpoints, ONNX export.
#include <trellis/trellis.hpp>

#include <cstddef>
#include <type_traits>

using namespace trellis;

namespace {
using fowl = dataset<image_folder, classes<5>, input_shape<3, 64, 64>>;
using cpu_env = environment<curated::pytorch_cpu>;
using cuda_env = environment<curated::pytorch_cuda>;
using cuda117_env = environment<curated::pytorch_1_13_cuda>;
using on_cpu = compute<local::cpu>;
using a100 = compute<azure::nc24ads_a100_v4, max_nodes<4>, cluster<"gpu-cluster">>;
using h100 = compute<azure::nd96isr_h100_v5, max_nodes<2>, cluster<"h100-cluster">>;
using t4 = compute<azure::nc4as_t4_v3, cluster<"t4-cluster">>;
using resnet = train<models::resnet18, epochs<30>>;
using reg = register_model<"pytorch-birds">;

struct deformable_detector {  // a user module with an operator ONNX cannot express
  static constexpr text_view name = "deformable_detector";
  static constexpr bool onnx_exportable = false;
};
struct tiny_vit {
  static constexpr text_view name = "tiny_vit";
  static constexpr bool onnx_exportable = true;
};
}  // namespace

// E011: nccl needs a GPU target; asked for explicitly, on any CPU target.
static_assert(
    std::is_same_v<check_t<pipeline<fowl, on_cpu, distributed<pytorch, procs<2>, nccl>, resnet>>,
                   rules::E011_nccl_requires_gpu<nccl, local::cpu>>);
static_assert(std::is_same_v<check_t<pipeline<fowl, cpu_env, compute<azure::d13_v2>,
                                              distributed<pytorch, nodes<2>, nccl>, resnet>>,
                             rules::E011_nccl_requires_gpu<nccl, azure::d13_v2>>);
static_assert(is_valid_v<pipeline<fowl, on_cpu, distributed<pytorch, procs<2>, gloo>, resnet>>);
static_assert(is_valid_v<pipeline<fowl, on_cpu, distributed<pytorch, procs<2>>, resnet>>);
static_assert(is_valid_v<pipeline<fowl, compute<local::cuda<gpus<2>>>,
                                  distributed<pytorch, procs<2>, nccl>, resnet>>);

// E012: a GPU target with an environment that has no CUDA.
static_assert(std::is_same_v<check_t<pipeline<fowl, cpu_env, a100, resnet>>,
                             rules::E012_gpu_requires_cuda_environment<azure::nc24ads_a100_v4,
                                                                       curated::pytorch_cpu>>);
static_assert(
    is_rule_v<check_t<pipeline<fowl, environment<custom<"birds">>, compute<local::cuda<>>, resnet>>,
              rules::E012_gpu_requires_cuda_environment>);
static_assert(is_valid_v<pipeline<fowl, cuda_env, a100, resnet>>);
static_assert(is_valid_v<pipeline<fowl, environment<custom<"birds">, cuda<12, 1>>,
                                  compute<local::cuda<>>, resnet>>);
static_assert(is_valid_v<pipeline<fowl, compute<local::cuda<>>, resnet>>);  // local: no environment
static_assert(is_valid_v<pipeline<fowl, cpu_env, compute<azure::ds3_v2>, resnet>>);

// E013: distributed<mpi> needs an environment with MPI; curated presets have it.
using horovod_env = environment<custom<"birds-horovod">, cuda<12, 1>, torch_version<2, 2>>;
static_assert(std::is_same_v<
              check_t<pipeline<fowl, horovod_env, a100, distributed<Horovod, nodes<2>>, resnet>>,
              rules::E013_mpi_requires_mpi_environment<mpi, custom<"birds-horovod">>>);
static_assert(is_valid_v<pipeline<fowl, environment<custom<"birds-horovod">, cuda<12, 1>, with_mpi>,
                                  a100, distributed<Horovod, nodes<2>>, resnet>>);
static_assert(is_valid_v<pipeline<fowl, cuda_env, a100, distributed<mpi, nodes<2>>, resnet>>);
static_assert(
    is_valid_v<pipeline<fowl, horovod_env, a100, distributed<pytorch, nodes<2>>, resnet>>);

// E014: custom environment names must not start with AzureML, in any case; curated ones do.
static_assert(
    std::is_same_v<check_t<pipeline<fowl, environment<custom<"AzureML-pytorch-birds">, cuda<12, 1>>,
                                    a100, resnet>>,
                   rules::E014_reserved_environment_name<custom<"AzureML-pytorch-birds">>>);
static_assert(
    is_rule_v<check_t<pipeline<fowl, environment<custom<"azureml_birds">>, on_cpu, resnet>>,
              rules::E014_reserved_environment_name>);
static_assert(is_rule_v<check_t<pipeline<fowl, environment<custom<"AZUREML">>, on_cpu, resnet>>,
                        rules::E014_reserved_environment_name>);
static_assert(is_valid_v<pipeline<fowl, environment<custom<"azure-ml-birds">>, on_cpu, resnet>>);
static_assert(is_valid_v<pipeline<fowl, environment<custom<"AzureM">>, on_cpu, resnet>>);
static_assert(is_valid_v<pipeline<fowl, environment<custom<"birds-AzureML">>, on_cpu, resnet>>);
static_assert(is_valid_v<pipeline<fowl, cuda_env, a100, resnet>>);  // "AzureML-acpt-..." is curated

// E037: torch and CUDA versions with no official PyTorch build; the error names the CUDA
// versions that torch release is built for.
template <std::size_t TorchMajor, std::size_t TorchMinor, std::size_t CudaMajor,
          std::size_t CudaMinor>
using torch_on_cuda =
    environment<custom<"birds">, torch_version<TorchMajor, TorchMinor>, cuda<CudaMajor, CudaMinor>>;
static_assert(std::is_same_v<check_t<pipeline<fowl, torch_on_cuda<2, 5, 11, 7>, a100, resnet>>,
                             rules::E037_no_official_torch_build<
                                 torch_version<2, 5>, cuda<11, 7>,
                                 built_for<cuda<11, 8>, cuda<12, 1>, cuda<12, 4>>>>);
static_assert(
    std::is_same_v<check_t<torch_on_cuda<1, 13, 11, 8>>,  // on its own
                   rules::E037_no_official_torch_build<torch_version<1, 13>, cuda<11, 8>,
                                                       built_for<cuda<11, 6>, cuda<11, 7>>>>);
static_assert(is_rule_v<check_t<pipeline<fowl, torch_on_cuda<2, 8, 11, 8>, on_cpu, resnet>>,
                        rules::E037_no_official_torch_build>);  // 2.8 dropped CUDA 11.8
static_assert(is_rule_v<check_t<pipeline<fowl, torch_on_cuda<2, 1, 12, 4>, on_cpu, resnet>>,
                        rules::E037_no_official_torch_build>);  // 12.4 came with 2.4
static_assert(is_valid_v<pipeline<fowl, torch_on_cuda<2, 5, 12, 4>, a100, resnet>>);
static_assert(is_valid_v<pipeline<fowl, torch_on_cuda<1, 13, 11, 6>, a100, resnet>>);
static_assert(is_valid_v<pipeline<fowl, torch_on_cuda<2, 8, 12, 9>, a100, resnet>>);
static_assert(is_valid_v<pipeline<fowl, torch_on_cuda<2, 9, 13, 0>, a100, resnet>>);
static_assert(
    is_valid_v<pipeline<fowl, torch_on_cuda<1, 12, 10, 2>, on_cpu, resnet>>);  // not listed
static_assert(is_valid_v<pipeline<fowl, environment<custom<"cpu">, torch_version<2, 5>>, on_cpu,
                                  resnet>>);  // a CPU image
static_assert(is_valid_v<pipeline<fowl, environment<custom<"any">, cuda<11, 7>>, a100, resnet>>);
// The curated presets are official builds.
static_assert(has_official_build(curated::pytorch_cuda::torch, curated::pytorch_cuda::cuda));
static_assert(has_official_build(curated::pytorch_1_13_cuda::torch,
                                 curated::pytorch_1_13_cuda::cuda));
// It comes after E014 and before E015: an image that cannot be built is the first mistake.
static_assert(is_rule_v<check_t<pipeline<fowl, environment<custom<"AzureML-x">, torch_version<2, 5>,
                                                           cuda<11, 7>>, on_cpu, resnet>>,
                        rules::E014_reserved_environment_name>);
static_assert(is_rule_v<check_t<pipeline<fowl, torch_on_cuda<2, 0, 11, 6>, h100, resnet>>,
                        rules::E037_no_official_torch_build>);  // also E015: H100 needs 11.8+

// E015: the environment's CUDA version cannot drive the target's GPU.
static_assert(std::is_same_v<check_t<pipeline<fowl, cuda117_env, h100, resnet>>,
                             rules::E015_cuda_unsupported_by_gpu<cuda<11, 7>, gpu_models::h100_80gb,
                                                                 azure::nd96isr_h100_v5>>);
static_assert(
    is_rule_v<check_t<pipeline<fowl, cuda117_env, compute<azure::nc40ads_h100_v5>, resnet>>,
              rules::E015_cuda_unsupported_by_gpu>);
static_assert(
    is_valid_v<pipeline<fowl, environment<custom<"h100">, cuda<11, 8>>, h100, resnet>>);  // 11.8+
static_assert(is_valid_v<pipeline<fowl, cuda_env, h100, resnet>>);
static_assert(is_valid_v<pipeline<fowl, cuda117_env, a100, resnet>>);  // A100: 11.0+
static_assert(
    std::is_same_v<check_t<pipeline<fowl, environment<custom<"a100">, cuda<10, 2>>, a100, resnet>>,
                   rules::E015_cuda_unsupported_by_gpu<cuda<10, 2>, gpu_models::a100_80gb,
                                                       azure::nc24ads_a100_v4>>);
static_assert(is_valid_v<pipeline<fowl, environment<custom<"a100">, cuda<11, 0>>, a100, resnet>>);
static_assert(is_rule_v<check_t<pipeline<fowl, environment<custom<"t4">, cuda<9, 2>>, t4, resnet>>,
                        rules::E015_cuda_unsupported_by_gpu>);
static_assert(
    is_valid_v<pipeline<fowl, environment<custom<"t4">, cuda<10, 0>>, t4, resnet>>);  // T4: 10.0+
static_assert(
    is_valid_v<pipeline<fowl, cuda117_env, compute<local::cuda<>>, resnet>>);  // known at run time

// E016: every retired size is an error that names its replacement; the replacements are fine.
static_assert(std::is_same_v<
              check_t<pipeline<fowl, cuda117_env, compute<azure::nc6>, resnet>>,
              rules::E016_retired_vm_size<azure::nc6, azure::replaced_by<azure::nc4as_t4_v3>>>);
static_assert(
    std::is_same_v<
        check_t<pipeline<fowl, cuda117_env, compute<azure::nc12>, resnet>>,
        rules::E016_retired_vm_size<azure::nc12, azure::replaced_by<azure::nc24ads_a100_v4>>>);
static_assert(
    std::is_same_v<
        check_t<pipeline<fowl, cuda117_env, compute<azure::nc24>, resnet>>,
        rules::E016_retired_vm_size<azure::nc24, azure::replaced_by<azure::nc48ads_a100_v4>>>);
static_assert(
    std::is_same_v<
        check_t<pipeline<fowl, cuda_env, compute<azure::nc6s_v3>, resnet>>,
        rules::E016_retired_vm_size<azure::nc6s_v3, azure::replaced_by<azure::nc24ads_a100_v4>>>);
static_assert(
    std::is_same_v<
        check_t<pipeline<fowl, cuda_env, compute<azure::nc24s_v3>, resnet>>,
        rules::E016_retired_vm_size<azure::nc24s_v3, azure::replaced_by<azure::nc96ads_a100_v4>>>);
static_assert(is_rule_v<check_t<compute<azure::nc6>>, rules::E016_retired_vm_size>);  // on its own
static_assert(is_valid_v<pipeline<fowl, cuda117_env, compute<azure::nc4as_t4_v3>, resnet>>);
static_assert(is_valid_v<pipeline<fowl, cuda117_env, compute<azure::nc24ads_a100_v4>, resnet>>);
static_assert(is_valid_v<pipeline<fowl, cuda117_env, compute<azure::nc48ads_a100_v4>, resnet>>);
static_assert(is_valid_v<pipeline<fowl, cuda_env, compute<azure::nc96ads_a100_v4>, resnet>>);
// A size retired later needs only its catalog entry: E016 reports it with the one message (the
// rule's diagnose takes it; its body, the failing static_assert, is not instantiated here).
namespace retired_later {
struct p100 final {  // sm_60
  static constexpr text_view name = "P100";
  static constexpr std::size_t min_cuda = 800, max_cuda = 0, memory_gib = 16;
};
struct nc12s_v2 final : azure::vm_size<"Standard_NC12s_v2", 12, 2, p100, azure::fabric::ethernet,
                                       azure::replaced_by<azure::nc48ads_a100_v4>> {};
template <class CheckResult>
concept reported_by_diagnose = requires(CheckResult r) { rules::diagnose(r); };
}  // namespace retired_later
using retired_later::nc12s_v2, retired_later::reported_by_diagnose;
using retired_sixth = check_t<pipeline<fowl, cuda_env, compute<nc12s_v2>, resnet>>;
static_assert(std::is_same_v<
              retired_sixth,
              rules::E016_retired_vm_size<nc12s_v2, azure::replaced_by<azure::nc48ads_a100_v4>>>);
static_assert(reported_by_diagnose<retired_sixth>);
static_assert(reported_by_diagnose<check_t<compute<azure::nc24s_v3>>>);

// E017: low_priority compute needs checkpoints; dedicated compute does not.
static_assert(std::is_same_v<
              check_t<pipeline<fowl, cuda_env, compute<azure::nc24ads_a100_v4, low_priority>,
                               train<models::resnet18, checkpoint_every<0>>>>,
              rules::E017_low_priority_requires_checkpoints<low_priority, checkpoint_every<0>>>);
static_assert(is_valid_v<pipeline<fowl, cuda_env, compute<azure::nc24ads_a100_v4, low_priority>,
                                  train<models::resnet18, checkpoint_every<1>>>>);
static_assert(
    is_valid_v<pipeline<fowl, cuda_env, compute<azure::nc24ads_a100_v4, low_priority>, resnet>>);
static_assert(is_valid_v<pipeline<fowl, cuda_env, compute<azure::nc24ads_a100_v4, dedicated>,
                                  train<models::resnet18, checkpoint_every<0>>>>);

// E036: low_priority is for Azure compute; local targets take dedicated (their default) only.
static_assert(std::is_same_v<check_t<pipeline<fowl, compute<local::cpu, low_priority>, resnet>>,
                             rules::E036_low_priority_on_local_target<low_priority, local::cpu>>);
using two_local_gpus = local::cuda<gpus<2>>;
static_assert(
    std::is_same_v<check_t<compute<two_local_gpus, low_priority>>,
                   rules::E036_low_priority_on_local_target<low_priority, two_local_gpus>>);
// It comes before E017: without checkpoints too, the priority itself is the mistake.
static_assert(is_rule_v<check_t<pipeline<fowl, compute<local::cpu, low_priority>,
                                         train<models::resnet18, checkpoint_every<0>>>>,
                        rules::E036_low_priority_on_local_target>);
static_assert(is_valid_v<pipeline<fowl, compute<local::cpu, dedicated>, resnet>>);

// E018: export_onnx of a model that declares it cannot be exported.
static_assert(
    std::is_same_v<check_t<pipeline<fowl, on_cpu, train<models::user<deformable_detector>>, reg,
                                    export_onnx<>>>,
                   rules::E018_model_not_exportable<models::user<deformable_detector>>>);
static_assert(is_valid_v<pipeline<fowl, on_cpu, train<models::user<deformable_detector>>, reg>>);
static_assert(
    is_valid_v<pipeline<fowl, on_cpu, train<models::user<tiny_vit>>, reg, export_onnx<>>>);

// E019: opsets 7..17 (ONNX 1.12, IR 8).
static_assert(std::is_same_v<check_t<pipeline<fowl, on_cpu, resnet, export_onnx<opset<18>>>>,
                             rules::E019_opset_out_of_range<opset<18>>>);
static_assert(std::is_same_v<check_t<pipeline<fowl, on_cpu, resnet, export_onnx<opset<6>>>>,
                             rules::E019_opset_out_of_range<opset<6>>>);
static_assert(is_valid_v<pipeline<fowl, on_cpu, resnet, export_onnx<opset<7>>>>);
static_assert(is_valid_v<pipeline<fowl, on_cpu, resnet, export_onnx<opset<17>, static_batch>>>);
static_assert(is_valid_v<pipeline<fowl, on_cpu, resnet, export_onnx<>>>);  // default opset 17

// E020: max_restarts needs checkpoints to restart from.
static_assert(
    std::is_same_v<check_t<pipeline<fowl, on_cpu, distributed<pytorch, procs<4>, max_restarts<3>>,
                                    train<models::resnet18, checkpoint_every<0>>>>,
                   rules::E020_restarts_require_checkpoints<max_restarts<3>, checkpoint_every<0>>>);
static_assert(is_valid_v<pipeline<fowl, on_cpu, distributed<pytorch, procs<4>, max_restarts<3>>,
                                  train<models::resnet18, checkpoint_every<2>>>>);
static_assert(is_valid_v<pipeline<fowl, on_cpu, distributed<pytorch, procs<4>, max_restarts<0>>,
                                  train<models::resnet18, checkpoint_every<0>>>>);

// E021: an Azure target needs an environment once there is a job (train) to run.
static_assert(std::is_same_v<check_t<pipeline<fowl, a100, distributed<pytorch, nodes<2>>, resnet>>,
                             rules::E021_azure_requires_environment<azure::nc24ads_a100_v4>>);
static_assert(is_rule_v<check_t<pipeline<fowl, compute<azure::ds3_v2>, resnet>>,
                        rules::E021_azure_requires_environment>);
static_assert(is_valid_v<pipeline<fowl, cuda_env, a100, distributed<pytorch, nodes<2>>, resnet>>);
static_assert(is_valid_v<pipeline<fowl, a100>>);
static_assert(is_valid_v<pipeline<fowl, on_cpu, resnet>>);

// E022: mpirun starts every rank, so mpi cannot use per_node launchers.
static_assert(
    std::is_same_v<check_t<pipeline<fowl, cuda_env, compute<azure::nc48ads_a100_v4>,
                                    distributed<Horovod, nodes<2>, procs<2>, per_node>, resnet>>,
                   rules::E022_mpi_launches_per_process<mpi, per_node>>);
static_assert(is_valid_v<pipeline<fowl, cuda_env, compute<azure::nc48ads_a100_v4>,
                                  distributed<Horovod, nodes<2>, procs<2>, per_process>, resnet>>);
static_assert(is_valid_v<pipeline<fowl, cuda_env, compute<azure::nc48ads_a100_v4>,
                                  distributed<pytorch, nodes<2>, procs<2>, per_node>, resnet>>);

// Order within the family follows rules/catalog.hpp: E016 first, then E011 ... E022.
static_assert(is_rule_v<check_t<pipeline<fowl, cpu_env, compute<azure::nc6>, resnet>>,
                        rules::E016_retired_vm_size>);  // also E012
static_assert(is_rule_v<check_t<pipeline<fowl, cuda_env, compute<azure::nc6>, resnet>>,
                        rules::E016_retired_vm_size>);  // also E015 (CUDA 12 dropped K80)
static_assert(is_rule_v<check_t<pipeline<fowl, environment<custom<"AzureML-cpu">>,
                                         compute<azure::d13_v2>, distributed<mpi, nccl>, resnet>>,
                        rules::E011_nccl_requires_gpu>);  // also E013, E014
static_assert(is_rule_v<check_t<pipeline<fowl, environment<custom<"AzureML-cpu">>, a100, resnet>>,
                        rules::E012_gpu_requires_cuda_environment>);  // also E014
static_assert(is_rule_v<check_t<pipeline<fowl, environment<custom<"AzureML-mpi">, cuda<12, 1>>,
                                         a100, distributed<mpi, per_node>, resnet>>,
                        rules::E013_mpi_requires_mpi_environment>);  // also E014, E022
static_assert(
    is_rule_v<
        check_t<pipeline<fowl, environment<custom<"AzureML-h100">, cuda<11, 7>>, h100, resnet>>,
        rules::E014_reserved_environment_name>);  // also E015
static_assert(
    is_rule_v<check_t<pipeline<fowl, cuda_env, compute<azure::nc24ads_a100_v4, low_priority>,
                               distributed<pytorch, max_restarts<2>>,
                               train<models::resnet18, checkpoint_every<0>>>>,
              rules::E017_low_priority_requires_checkpoints>);  // also E020
static_assert(is_rule_v<check_t<pipeline<fowl, on_cpu, train<models::user<deformable_detector>>,
                                         export_onnx<opset<18>>>>,
                        rules::E018_model_not_exportable>);  // also E019
static_assert(is_rule_v<check_t<pipeline<fowl, a100, distributed<mpi, nodes<2>, per_node>, resnet>>,
                        rules::E021_azure_requires_environment>);  // also E022
// Compatibility comes before capacity and names.
static_assert(is_rule_v<check_t<pipeline<fowl, cpu_env, compute<azure::nc96ads_a100_v4>,
                                         distributed<pytorch, procs<8>>, resnet>>,
                        rules::E012_gpu_requires_cuda_environment>);  // also E023
static_assert(
    is_rule_v<check_t<pipeline<fowl, environment<custom<"AzureML birds">>, on_cpu, resnet>>,
              rules::E014_reserved_environment_name>);  // also E033
static_assert(
    is_rule_v<check_t<pipeline<fowl, cuda_env, compute<azure::nc6, cluster<"k80-1">>, resnet>>,
              rules::E016_retired_vm_size>);  // also E032
