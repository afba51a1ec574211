// Name rules E030-E035 as check results: model, experiment, compute, environment and transfer
// names against Azure ML's patterns, and the metric that selects the best checkpoint.
//   assets (models, environments): ^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$
//   AmlCompute clusters:           ^[a-zA-Z](?![a-zA-Z0-9-]*-\d+$)[a-zA-Z0-9\-]{2,23}$
#include <trellis/trellis.hpp>

#include <type_traits>

using namespace trellis;

namespace {
using fowl = dataset<image_folder, classes<5>, input_shape<3, 64, 64>>;
using cuda_env = environment<curated::pytorch_cuda>;
using on_cpu = compute<local::cpu>;
using a100 = compute<azure::nc24ads_a100_v4, max_nodes<4>, cluster<"gpu-cluster">>;
using resnet = train<models::resnet18, epochs<30>>;

template <fixed_string Name>
using with_cluster =
    pipeline<fowl, cuda_env, compute<azure::nc24ads_a100_v4, cluster<Name>>, resnet>;
template <fixed_string Name>
using with_env = pipeline<fowl, environment<custom<Name>, cuda<12, 1>>, a100, resnet>;
template <fixed_string Name>
using with_model = pipeline<fowl, on_cpu, resnet, register_model<Name>>;
}  // namespace

#define TRELLIS_X51 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
#define TRELLIS_X255 TRELLIS_X51 TRELLIS_X51 TRELLIS_X51 TRELLIS_X51 TRELLIS_X51

// E030: model names: 1-255 letters, digits, '-' or '_', starting with a letter or digit.
static_assert(std::is_same_v<check_t<with_model<"pytorch birds">>,
                             rules::E030_invalid_model_name<register_model<"pytorch birds">>>);
static_assert(is_rule_v<check_t<with_model<"_birds">>, rules::E030_invalid_model_name>);
static_assert(is_rule_v<check_t<with_model<"-birds">>, rules::E030_invalid_model_name>);
static_assert(is_rule_v<check_t<with_model<"birds.v2">>, rules::E030_invalid_model_name>);
static_assert(is_rule_v<check_t<with_model<"">>, rules::E030_invalid_model_name>);
static_assert(
    is_rule_v<check_t<with_model<TRELLIS_X255 "x">>, rules::E030_invalid_model_name>);  // 256
static_assert(is_valid_v<with_model<TRELLIS_X255>>);                                    // 255
static_assert(is_valid_v<with_model<"pytorch-birds">>);
static_assert(is_valid_v<with_model<"pytorch_birds_2">>);
static_assert(is_valid_v<with_model<"1">>);
static_assert(is_valid_v<with_model<"9birds">>);

// E031: experiment names follow the same asset rule.
static_assert(
    std::is_same_v<
        check_t<pipeline<fowl, on_cpu, train<models::resnet18, experiment<"birds/resnet18">>>>,
        rules::E031_invalid_experiment_name<
            train<models::resnet18, experiment<"birds/resnet18">>>>);
static_assert(is_rule_v<check_t<pipeline<fowl, on_cpu, train<models::resnet18, experiment<"">>>>,
                        rules::E031_invalid_experiment_name>);
static_assert(
    is_rule_v<check_t<pipeline<fowl, on_cpu, train<models::resnet18, experiment<"birds resnet">>>>,
              rules::E031_invalid_experiment_name>);
static_assert(
    is_valid_v<pipeline<fowl, on_cpu, train<models::resnet18, experiment<"birds_resnet18">>>>);
static_assert(is_valid_v<pipeline<fowl, on_cpu, train<models::resnet18, experiment<"b">>>>);
static_assert(is_valid_v<pipeline<fowl, on_cpu, resnet>>);  // default experiment "trellis"

// E032: cluster names: 3-24 letters, digits or '-', starting with a letter, not ending in
// '-<digits>'; only Azure targets have one.
static_assert(std::is_same_v<check_t<with_cluster<"gpu-cluster-1">>,
                             rules::E032_invalid_compute_name<
                                 compute<azure::nc24ads_a100_v4, cluster<"gpu-cluster-1">>>>);
static_assert(is_rule_v<check_t<with_cluster<"a-1">>, rules::E032_invalid_compute_name>);
static_assert(is_rule_v<check_t<with_cluster<"gpu-2024">>, rules::E032_invalid_compute_name>);
static_assert(is_rule_v<check_t<with_cluster<"gc">>, rules::E032_invalid_compute_name>);        // 2
static_assert(is_rule_v<check_t<with_cluster<"gpu-cluster-a100-birds-xy">>,  // 25
                        rules::E032_invalid_compute_name>);
static_assert(is_rule_v<check_t<with_cluster<"1gpu">>, rules::E032_invalid_compute_name>);
static_assert(is_rule_v<check_t<with_cluster<"-gpu">>, rules::E032_invalid_compute_name>);
static_assert(is_rule_v<check_t<with_cluster<"gpu_cluster">>, rules::E032_invalid_compute_name>);
static_assert(is_valid_v<with_cluster<"gpu">>);                       // 3
static_assert(is_valid_v<with_cluster<"gpu-cluster-a100-birds-x">>);  // 24
static_assert(is_valid_v<with_cluster<"gpu-">>);                      // ends in '-', no digits
static_assert(is_valid_v<with_cluster<"gpu-cluster1">>);  // digits, but no '-' before them
static_assert(is_valid_v<with_cluster<"gpu-1-cluster">>);
static_assert(is_valid_v<with_cluster<"a100-x">>);
static_assert(is_valid_v<
              pipeline<fowl, cuda_env, compute<azure::nc24ads_a100_v4>, resnet>>);  // "trellis-gpu"
static_assert(is_valid_v<
              pipeline<fowl, compute<local::cpu, cluster<"my laptop">>, resnet>>);  // local: unused

// E033: custom environment names follow the asset rule; curated names are Azure's own.
static_assert(std::is_same_v<check_t<with_env<"pytorch-2.2-opencv">>,
                             rules::E033_invalid_environment_name<custom<"pytorch-2.2-opencv">>>);
static_assert(is_rule_v<check_t<with_env<"birds env">>, rules::E033_invalid_environment_name>);
static_assert(is_rule_v<check_t<with_env<"_birds">>, rules::E033_invalid_environment_name>);
static_assert(is_rule_v<check_t<with_env<"">>, rules::E033_invalid_environment_name>);
static_assert(is_valid_v<with_env<"pytorch-2_2-opencv">>);
static_assert(is_valid_v<with_env<"0birds">>);
static_assert(
    is_valid_v<pipeline<fowl, cuda_env, a100, resnet>>);  // "AzureML-acpt-pytorch-2.2-cuda12.1"

// E034: select_best must name a metric train logs: built-in, or declared with logs<...>.
static_assert(std::is_same_v<
              check_t<pipeline<fowl, on_cpu, train<models::resnet18, select_best<"val_f1">>>>,
              rules::E034_best_metric_not_logged<train<models::resnet18, select_best<"val_f1">>>>);
static_assert(is_rule_v<check_t<pipeline<fowl, on_cpu, train<models::resnet18, logs<"val_f1">,
                                                               select_best<"val_F1">>>>,
                        rules::E034_best_metric_not_logged>);
static_assert(is_rule_v<check_t<pipeline<fowl, on_cpu, train<models::resnet18, select_best<"">>>>,
                        rules::E034_best_metric_not_logged>);
static_assert(is_valid_v<pipeline<fowl, on_cpu,
                                  train<models::resnet18, logs<"val_f1">, select_best<"val_f1">>>>);
static_assert(is_valid_v<pipeline<fowl, on_cpu, train<models::resnet18, logs<"top5", "val_f1">,
                                                       select_best<"val_f1">>>>);
static_assert(is_valid_v<pipeline<fowl, on_cpu, train<models::resnet18, select_best<"val_loss">>>>);
static_assert(
    is_valid_v<pipeline<fowl, on_cpu, train<models::resnet18, select_best<"train_loss">>>>);
static_assert(
    is_valid_v<pipeline<fowl, on_cpu, train<models::resnet18, select_best<"images_per_s">>>>);

// E038: select_best never looks at test data, even when train logs the metric.
static_assert(
    std::is_same_v<
        check_t<pipeline<fowl, on_cpu, train<models::resnet18, select_best<"test_accuracy">>>>,
        rules::E038_select_best_on_test<select_best<"test_accuracy">>>);
static_assert(
    is_rule_v<check_t<pipeline<fowl, on_cpu, train<models::resnet18, select_best<"test_loss">>>>,
              rules::E038_select_best_on_test>);
static_assert(is_rule_v<check_t<pipeline<fowl, on_cpu, train<models::resnet18, logs<"test_f1">,
                                                               select_best<"test_f1">>>>,
                        rules::E038_select_best_on_test>);  // also E034 without the logs<>
static_assert(is_valid_v<pipeline<fowl, on_cpu,
                                  train<models::resnet18, logs<"tested">, select_best<"tested">>>>);

// E035: transfer_from names a registered model, so it follows the model name rule.
static_assert(
    std::is_same_v<
        check_t<pipeline<fowl, on_cpu, train<models::resnet18, transfer_from<"fashion-base:3">>>>,
        rules::E035_invalid_transfer_source<transfer_from<"fashion-base:3">>>);
static_assert(
    is_rule_v<
        check_t<pipeline<fowl, on_cpu, train<models::resnet18, transfer_from<"fashion base">>>>,
        rules::E035_invalid_transfer_source>);
static_assert(
    is_valid_v<pipeline<fowl, on_cpu, train<models::resnet18, transfer_from<"fashion-base">>>>);
static_assert(
    is_valid_v<pipeline<fowl, on_cpu, train<models::resnet18, transfer_from<"">>>>);  // none
static_assert(is_valid_v<pipeline<fowl, on_cpu, resnet>>);

// Order within the family follows rules/catalog.hpp: E030, E031, E032, E033, E038, E034, E035.
static_assert(
    is_rule_v<check_t<pipeline<fowl, environment<custom<"birds env">, cuda<12, 1>>,
                               compute<azure::nc24ads_a100_v4, cluster<"gpu-1">>,
                               train<models::resnet18, experiment<"a/b">>, register_model<"a b">>>,
              rules::E030_invalid_model_name>);  // also E031, E032, E033
static_assert(
    is_rule_v<check_t<pipeline<fowl, cuda_env, compute<azure::nc24ads_a100_v4, cluster<"gpu-1">>,
                               train<models::resnet18, experiment<"a/b">>>>,
              rules::E031_invalid_experiment_name>);  // also E032
static_assert(
    is_rule_v<check_t<pipeline<fowl, environment<custom<"birds env">, cuda<12, 1>>,
                               compute<azure::nc24ads_a100_v4, cluster<"gpu-1">>, resnet>>,
              rules::E032_invalid_compute_name>);  // also E033
static_assert(is_rule_v<check_t<pipeline<fowl, environment<custom<"birds env">, cuda<12, 1>>, a100,
                                         train<models::resnet18, select_best<"f1">>>>,
                        rules::E033_invalid_environment_name>);  // also E034
static_assert(is_rule_v<check_t<pipeline<fowl, on_cpu, train<models::resnet18, select_best<"f1">,
                                                               transfer_from<"base:1">>>>,
                        rules::E034_best_metric_not_logged>);  // also E035
static_assert(is_rule_v<check_t<pipeline<fowl, environment<custom<"birds env">, cuda<12, 1>>, a100,
                                         train<models::resnet18, select_best<"test_x">>>>,
                        rules::E033_invalid_environment_name>);  // also E038, E034

#undef TRELLIS_X255
#undef TRELLIS_X51
