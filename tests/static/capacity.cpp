// Capacity rules E023-E029 as check results: ranks vs GPUs per node, nodes vs the cluster,
// zero counts, global batch vs world size, min vs max nodes, local GPUs and class counts.
#include <trellis/trellis.hpp>

#include <type_traits>

using namespace trellis;

namespace {
using fashion = dataset<idx, classes<10>, input_shape<1, 28, 28>>;
using cpu_env = environment<curated::pytorch_cpu>;
using cuda_env = environment<curated::pytorch_cuda>;
using on_cpu = compute<local::cpu>;
using nc96 = compute<azure::nc96ads_a100_v4, max_nodes<4>, cluster<"gpu-cluster">>;
using cnn = train<models::small_cnn, epochs<5>>;
}  // namespace

// E023: NCCL needs one GPU per process: procs<4> fits the 4 GPUs of nc96ads_a100_v4, 5 does not.
static_assert(
    is_valid_v<pipeline<fashion, cuda_env, nc96, distributed<pytorch, nodes<2>, procs<4>>, cnn>>);
static_assert(
    std::is_same_v<
        check_t<pipeline<fashion, cuda_env, nc96, distributed<pytorch, nodes<2>, procs<5>>, cnn>>,
        rules::E023_procs_exceed_gpus<procs<5>, gpus<4>, azure::nc96ads_a100_v4>>);
// Horovod-style mpi on GPUs also runs NCCL, one GPU per rank.
static_assert(
    std::is_same_v<check_t<pipeline<fashion, cuda_env, nc96, distributed<mpi, procs<8>>, cnn>>,
                   rules::E023_procs_exceed_gpus<procs<8>, gpus<4>, azure::nc96ads_a100_v4>>);
static_assert(is_valid_v<pipeline<fashion, cuda_env, nc96, distributed<mpi, procs<4>>, cnn>>);
static_assert(
    std::is_same_v<
        check_t<pipeline<fashion, cuda_env, nc96, distributed<PyTorch, nodes<2>, procs<8>>, cnn>>,
        rules::E023_procs_exceed_gpus<procs<8>, gpus<4>, azure::nc96ads_a100_v4>>);
static_assert(is_rule_v<check_t<pipeline<fashion, cuda_env, compute<azure::nc24ads_a100_v4>,
                                         distributed<pytorch, procs<2>>, cnn>>,
                        rules::E023_procs_exceed_gpus>);
static_assert(is_valid_v<pipeline<fashion, cuda_env, compute<azure::nd96isr_h100_v5, max_nodes<2>>,
                                  distributed<PyTorch, nodes<2>, procs<8>>, cnn>>);
// Not NCCL, so not bound by GPUs: explicit Gloo, and CPU VM sizes.
static_assert(
    is_valid_v<pipeline<fashion, cuda_env, nc96, distributed<pytorch, procs<8>, gloo>, cnn>>);
static_assert(is_valid_v<pipeline<fashion, cpu_env, compute<azure::d13_v2>,
                                  distributed<pytorch, procs<8>>, cnn>>);

// E024: nodes beyond the cluster's max_nodes (4 when not given); local nodes share this machine.
static_assert(
    std::is_same_v<check_t<pipeline<fashion, cuda_env, nc96, distributed<pytorch, nodes<5>>, cnn>>,
                   rules::E024_nodes_exceed_max_nodes<nodes<5>, max_nodes<4>>>);
static_assert(std::is_same_v<
              check_t<pipeline<fashion, cuda_env, compute<azure::nc24ads_a100_v4, max_nodes<2>>,
                               distributed<pytorch, nodes<3>>, cnn>>,
              rules::E024_nodes_exceed_max_nodes<nodes<3>, max_nodes<2>>>);
static_assert(is_rule_v<check_t<pipeline<fashion, cuda_env, compute<azure::nc24ads_a100_v4>,
                                         distributed<pytorch, nodes<5>>, cnn>>,
                        rules::E024_nodes_exceed_max_nodes>);
static_assert(is_valid_v<pipeline<fashion, cuda_env, nc96, distributed<pytorch, nodes<4>>, cnn>>);
static_assert(is_valid_v<pipeline<fashion, cuda_env, compute<azure::nc24ads_a100_v4>,
                                  distributed<pytorch, nodes<4>>, cnn>>);
static_assert(is_valid_v<pipeline<fashion, on_cpu, distributed<pytorch, nodes<3>, procs<2>>, cnn>>);

// E025: a zero count; the context carries every count it looked at.
static_assert(std::is_same_v<
              check_t<pipeline<fashion, on_cpu, distributed<pytorch, nodes<1>, procs<0>>, cnn>>,
              rules::E025_zero_count<nodes<1>, procs<0>, epochs<5>, global_batch<0>, max_nodes<1>,
                                     gpus<0>>>);
static_assert(
    std::is_same_v<check_t<pipeline<fashion, on_cpu, distributed<pytorch, nodes<0>>, cnn>>,
                   rules::E025_zero_count<nodes<0>, procs<1>, epochs<5>, global_batch<0>,
                                          max_nodes<1>, gpus<0>>>);
static_assert(
    std::is_same_v<check_t<pipeline<fashion, on_cpu, train<models::small_cnn, epochs<0>>>>,
                   rules::E025_zero_count<nodes<1>, procs<1>, epochs<0>, global_batch<0>,
                                          max_nodes<1>, gpus<0>>>);
static_assert(
    std::is_same_v<check_t<pipeline<fashion, on_cpu, train<models::small_cnn, global_batch<0>>>>,
                   rules::E025_zero_count<nodes<1>, procs<1>, epochs<1>, global_batch<0>,
                                          max_nodes<1>, gpus<0>>>);
static_assert(
    std::is_same_v<
        check_t<pipeline<fashion, cuda_env, compute<azure::nc24ads_a100_v4, max_nodes<0>>, cnn>>,
        rules::E025_zero_count<nodes<1>, procs<1>, epochs<5>, global_batch<0>, max_nodes<0>,
                               gpus<1>>>);
static_assert(std::is_same_v<check_t<pipeline<fashion, compute<local::cuda<gpus<0>>>, cnn>>,
                             rules::E025_zero_count<nodes<1>, procs<1>, epochs<5>, global_batch<0>,
                                                    max_nodes<1>, gpus<0>>>);
static_assert(is_valid_v<pipeline<fashion, on_cpu, distributed<pytorch, nodes<1>, procs<1>>,
                                  train<models::small_cnn, epochs<1>, global_batch<1>>>>);
static_assert(is_valid_v<pipeline<fashion, compute<local::cuda<gpus<1>>>, cnn>>);
static_assert(
    is_valid_v<pipeline<fashion, cuda_env, compute<azure::nc24ads_a100_v4, max_nodes<1>>, cnn>>);
static_assert(
    is_valid_v<pipeline<fashion, on_cpu, train<models::small_cnn, checkpoint_every<0>>>>);  // 0 =
                                                                                            // off

// E026: global_batch must divide by nodes x procs; 64 over 3 ranks does not, over 4 it does.
static_assert(
    std::is_same_v<check_t<pipeline<fashion, on_cpu, distributed<pytorch, nodes<1>, procs<3>>,
                                    train<models::small_cnn, global_batch<64>>>>,
                   rules::E026_global_batch_not_divisible<global_batch<64>, nodes<1>, procs<3>>>);
static_assert(std::is_same_v<
              check_t<pipeline<fashion, cuda_env, nc96, distributed<pytorch, nodes<3>, procs<4>>,
                               train<models::small_cnn, global_batch<256>>>>,
              rules::E026_global_batch_not_divisible<global_batch<256>, nodes<3>, procs<4>>>);
static_assert(is_valid_v<pipeline<fashion, on_cpu, distributed<pytorch, nodes<1>, procs<4>>,
                                  train<models::small_cnn, global_batch<64>>>>);
static_assert(is_valid_v<pipeline<fashion, cuda_env, nc96, distributed<pytorch, nodes<3>, procs<4>>,
                                  train<models::small_cnn, global_batch<240>>>>);
static_assert(
    is_valid_v<pipeline<fashion, on_cpu, train<models::small_cnn, global_batch<63>>>>);  // one rank
static_assert(
    is_valid_v<pipeline<fashion, on_cpu, distributed<pytorch, procs<3>>, cnn>>);  // no global_batch

// E027: min_nodes above max_nodes (4 on Azure, 1 locally, when not given).
static_assert(
    std::is_same_v<check_t<pipeline<fashion, cpu_env,
                                    compute<azure::d13_v2, min_nodes<4>, max_nodes<2>>, cnn>>,
                   rules::E027_min_nodes_exceed_max_nodes<min_nodes<4>, max_nodes<2>>>);
static_assert(
    std::is_same_v<check_t<pipeline<fashion, cpu_env, compute<azure::d13_v2, min_nodes<5>>, cnn>>,
                   rules::E027_min_nodes_exceed_max_nodes<min_nodes<5>, max_nodes<4>>>);
static_assert(is_rule_v<check_t<compute<azure::d13_v2, min_nodes<3>, max_nodes<2>>>,
                        rules::E027_min_nodes_exceed_max_nodes>);
static_assert(is_valid_v<
              pipeline<fashion, cpu_env, compute<azure::d13_v2, min_nodes<2>, max_nodes<2>>, cnn>>);
static_assert(is_valid_v<pipeline<fashion, cpu_env, compute<azure::d13_v2, min_nodes<4>>, cnn>>);

// E028: local nodes share this machine's GPUs: nodes x procs must not exceed gpus<N>.
static_assert(std::is_same_v<check_t<pipeline<fashion, cuda_env, compute<local::cuda<gpus<2>>>,
                                              distributed<pytorch, nodes<2>, procs<2>>, cnn>>,
                             rules::E028_local_gpus_exceeded<nodes<2>, procs<2>, gpus<2>>>);
static_assert(
    std::is_same_v<
        check_t<pipeline<fashion, compute<local::cuda<>>, distributed<pytorch, procs<2>>, cnn>>,
        rules::E028_local_gpus_exceeded<nodes<1>, procs<2>, gpus<1>>>);
static_assert(is_valid_v<pipeline<fashion, cuda_env, compute<local::cuda<gpus<4>>>,
                                  distributed<pytorch, nodes<2>, procs<2>>, cnn>>);
static_assert(is_valid_v<pipeline<fashion, cuda_env, compute<local::cuda<gpus<2>>>,
                                  distributed<pytorch, nodes<1>, procs<2>>, cnn>>);
static_assert(is_valid_v<pipeline<fashion, cuda_env, compute<local::cuda<gpus<2>>>,
                                  distributed<pytorch, nodes<2>, procs<2>, gloo>, cnn>>);

// E029: a classifier needs at least two classes.
static_assert(std::is_same_v<check_t<pipeline<dataset<image_folder, classes<1>>, on_cpu, cnn>>,
                             rules::E029_too_few_classes<classes<1>>>);
static_assert(std::is_same_v<check_t<pipeline<dataset<idx, classes<0>>, cnn>>,
                             rules::E029_too_few_classes<classes<0>>>);
static_assert(is_rule_v<check_t<dataset<image_folder, classes<1>>>, rules::E029_too_few_classes>);
static_assert(is_valid_v<pipeline<dataset<image_folder, classes<2>>, on_cpu, cnn>>);

// Order within the family follows rules/catalog.hpp: E025 first, then E023, E024, E026 ... E029.
static_assert(
    is_rule_v<check_t<pipeline<fashion, cuda_env, nc96, distributed<pytorch, nodes<8>, procs<8>>,
                               train<models::small_cnn, epochs<0>>>>,
              rules::E025_zero_count>);  // also E023, E024
static_assert(is_rule_v<check_t<pipeline<fashion, on_cpu, distributed<pytorch, nodes<0>>,
                                         train<models::small_cnn, global_batch<3>>>>,
                        rules::E025_zero_count>);  // and nothing divides by a zero world size
static_assert(
    is_rule_v<
        check_t<pipeline<fashion, cuda_env, nc96, distributed<pytorch, nodes<8>, procs<8>>, cnn>>,
        rules::E023_procs_exceed_gpus>);  // also E024
static_assert(
    is_rule_v<check_t<pipeline<fashion, cuda_env, nc96, distributed<pytorch, nodes<5>, procs<3>>,
                               train<models::small_cnn, global_batch<64>>>>,
              rules::E024_nodes_exceed_max_nodes>);  // also E026
static_assert(
    is_rule_v<check_t<pipeline<fashion, cuda_env,
                               compute<azure::nc96ads_a100_v4, min_nodes<4>, max_nodes<2>>,
                               distributed<pytorch, nodes<3>>, cnn>>,
              rules::E024_nodes_exceed_max_nodes>);  // also E027
static_assert(
    is_rule_v<check_t<pipeline<dataset<idx, classes<1>>, compute<local::cuda<>, min_nodes<2>>,
                               distributed<pytorch, procs<3>>,
                               train<models::small_cnn, global_batch<8>>>>,
              rules::E026_global_batch_not_divisible>);  // also E027, E028, E029
static_assert(
    is_rule_v<check_t<pipeline<dataset<idx, classes<1>>, compute<local::cpu, min_nodes<2>>, cnn>>,
              rules::E027_min_nodes_exceed_max_nodes>);  // also E029
// Capacity comes before names.
static_assert(
    is_rule_v<
        check_t<pipeline<dataset<idx, classes<1>>, on_cpu, cnn, register_model<"fashion cnn">>>,
        rules::E029_too_few_classes>);  // also E030
static_assert(
    is_rule_v<check_t<pipeline<fashion, cuda_env, compute<azure::nc96ads_a100_v4, cluster<"gpu-1">>,
                               distributed<pytorch, nodes<5>>, cnn>>,
              rules::E024_nodes_exceed_max_nodes>);  // also E032
