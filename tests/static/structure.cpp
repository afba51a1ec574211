// Structure rules E001-E010 as check results: which rule a broken config reports, with which
// context, and the nearby configs that stay valid. Pipelines are spelled as types, because
// building them with `|` would fire the rule's static_assert.
#include <trellis/trellis.hpp>

#include <concepts>
#include <type_traits>

using namespace trellis;

namespace {
using fashion = dataset<idx, classes<10>, input_shape<1, 28, 28>>;
using cpu_env = environment<curated::pytorch_cpu>;
using on_cpu = compute<local::cpu>;
using ddp4 = distributed<pytorch, nodes<1>, procs<4>>;
using cnn = train<models::small_cnn, epochs<5>>;
using reg = register_model<"fashion-cnn">;
using onnx = export_onnx<opset<17>>;
}  // namespace

// The whole pipeline in the one allowed order, and with its optional stages left out.
static_assert(is_valid_v<pipeline<fashion, cpu_env, on_cpu, ddp4, cnn, reg, onnx>>);
static_assert(is_valid_v<pipeline<fashion, cnn>>);
static_assert(is_valid_v<pipeline<fashion, on_cpu, cnn, onnx>>);

// E001: a stage after a stage that must follow it; the context names both.
static_assert(is_rule_v<check_t<pipeline<fashion, cnn, on_cpu>>, rules::E001_stage_order>);
static_assert(std::is_same_v<check_t<pipeline<fashion, cpu_env, cnn, on_cpu>>,
                             rules::E001_stage_order<in_stage<stage_order::compute>,
                                                     in_stage<stage_order::train>>>);
static_assert(is_rule_v<check_t<pipeline<fashion, on_cpu, cpu_env, cnn>>, rules::E001_stage_order>);
static_assert(is_rule_v<check_t<pipeline<fashion, cnn, onnx, reg>>, rules::E001_stage_order>);
static_assert(is_valid_v<pipeline<fashion, cnn, reg, onnx>>);

// E002: the same stage twice in a row.
static_assert(std::is_same_v<check_t<pipeline<fashion, on_cpu, cnn, train<models::resnet18>>>,
                             rules::E002_duplicate_stage<in_stage<stage_order::train>>>);
static_assert(
    is_rule_v<check_t<pipeline<fashion, cpu_env, cpu_env, cnn>>, rules::E002_duplicate_stage>);
static_assert(is_valid_v<pipeline<fashion, cpu_env, cnn>>);

// E003: train without a dataset; a pipeline without train needs none.
static_assert(std::is_same_v<check_t<pipeline<cpu_env, on_cpu, cnn>>,
                             rules::E003_train_requires_dataset<cnn>>);
static_assert(is_rule_v<check_t<cnn>, rules::E003_train_requires_dataset>);
static_assert(is_valid_v<pipeline<cpu_env, on_cpu>>);

// E004: register_model without train.
static_assert(std::is_same_v<check_t<pipeline<fashion, on_cpu, reg>>,
                             rules::E004_register_requires_train<reg>>);
static_assert(is_valid_v<pipeline<fashion, on_cpu, cnn, reg>>);

// E005: export_onnx without train.
static_assert(std::is_same_v<check_t<pipeline<fashion, on_cpu, onnx>>,
                             rules::E005_export_requires_train<onnx>>);
static_assert(is_valid_v<pipeline<fashion, on_cpu, cnn, onnx>>);

// E006: export_onnx needs a static input shape; without export none is needed.
static_assert(
    std::is_same_v<check_t<pipeline<dataset<image_folder, classes<5>>, cnn, onnx>>,
                   rules::E006_export_requires_static_shape<dataset<image_folder, classes<5>>>>);
static_assert(is_valid_v<pipeline<dataset<image_folder, classes<5>>, cnn, reg>>);
static_assert(
    is_valid_v<pipeline<dataset<image_folder, classes<5>, input_shape<3, 64, 64>>, cnn, onnx>>);

// E007: distributed without compute.
static_assert(std::is_same_v<check_t<pipeline<fashion, cpu_env, ddp4, cnn>>,
                             rules::E007_distributed_requires_compute<ddp4>>);
static_assert(is_valid_v<pipeline<fashion, cpu_env, on_cpu, ddp4, cnn>>);

// E008: a parameter of another stage; the context names the stage and the parameter.
static_assert(
    std::is_same_v<check_t<pipeline<fashion, on_cpu, train<models::small_cnn, procs<4>>>>,
                   rules::E008_unknown_parameter<in_stage<stage_order::train>, procs<4>>>);
static_assert(std::is_same_v<
              check_t<pipeline<fashion, on_cpu, cnn, register_model<"m", epochs<3>>>>,
              rules::E008_unknown_parameter<in_stage<stage_order::register_model>, epochs<3>>>);
static_assert(std::is_same_v<check_t<pipeline<fashion, compute<local::cpu, int>, cnn>>,
                             rules::E008_unknown_parameter<in_stage<stage_order::compute>, int>>);
static_assert(is_rule_v<check_t<pipeline<dataset<idx, classes<10>, epochs<3>>, cnn>>,
                        rules::E008_unknown_parameter>);
static_assert(is_valid_v<pipeline<fashion, on_cpu, distributed<pytorch, procs<4>>, cnn>>);

// E009: one kind given twice, even with different values.
static_assert(
    std::is_same_v<
        check_t<pipeline<fashion, on_cpu, train<models::small_cnn, epochs<10>, adam, epochs<30>>>>,
        rules::E009_duplicate_parameter<in_stage<stage_order::train>, epochs<10>>>);
static_assert(is_rule_v<check_t<pipeline<fashion, on_cpu, train<models::small_cnn, sgd, adam>>>,
                        rules::E009_duplicate_parameter>);
static_assert(is_rule_v<check_t<pipeline<fashion, compute<local::cpu, max_nodes<1>, max_nodes<1>>>>,
                        rules::E009_duplicate_parameter>);
static_assert(is_valid_v<pipeline<fashion, on_cpu, train<models::small_cnn, epochs<10>, adam>>>);

// E010: each stage's required parameters.
static_assert(
    std::is_same_v<check_t<pipeline<fashion, on_cpu, distributed<nodes<1>, procs<2>>, cnn>>,
                   rules::E010_missing_required_parameter<in_stage<stage_order::distributed>>>);
static_assert(
    std::is_same_v<check_t<pipeline<dataset<idx>, cnn>>,
                   rules::E010_missing_required_parameter<in_stage<stage_order::dataset>>>);
static_assert(is_rule_v<check_t<pipeline<dataset<classes<10>>, cnn>>,
                        rules::E010_missing_required_parameter>);
static_assert(is_rule_v<check_t<pipeline<fashion, environment<>, cnn>>,
                        rules::E010_missing_required_parameter>);
static_assert(is_rule_v<check_t<pipeline<fashion, compute<max_nodes<2>>, cnn>>,
                        rules::E010_missing_required_parameter>);
static_assert(is_rule_v<check_t<pipeline<fashion, train<epochs<5>>>>,
                        rules::E010_missing_required_parameter>);
static_assert(is_valid_v<pipeline<fashion, on_cpu, distributed<Horovod, procs<2>>, cnn>>);
static_assert(is_valid_v<pipeline<dataset<classes<10>, idx>, cnn>>);  // any parameter order

// Order within the family follows rules/catalog.hpp, not the ids: E008, E009, E010, E002,
// E001, E003 ... E007.
static_assert(is_rule_v<check_t<pipeline<fashion, compute<local::cpu, procs<2>>, cnn, cnn>>,
                        rules::E008_unknown_parameter>);  // also E002
static_assert(is_rule_v<check_t<pipeline<fashion, on_cpu,
                                         train<models::small_cnn, epochs<1>, epochs<2>, procs<2>>>>,
                        rules::E008_unknown_parameter>);  // also E009
static_assert(is_rule_v<check_t<pipeline<fashion, on_cpu, train<epochs<1>, epochs<2>>>>,
                        rules::E009_duplicate_parameter>);  // also E010
static_assert(is_rule_v<check_t<pipeline<fashion, cnn, cnn, on_cpu>>,
                        rules::E002_duplicate_stage>);  // also E001
static_assert(is_rule_v<check_t<pipeline<cpu_env, cnn, on_cpu>>,
                        rules::E001_stage_order>);  // also E003
static_assert(is_rule_v<check_t<pipeline<on_cpu, reg, onnx>>,
                        rules::E004_register_requires_train>);  // also E005
static_assert(is_rule_v<check_t<pipeline<dataset<image_folder, classes<5>>, ddp4, onnx>>,
                        rules::E005_export_requires_train>);  // also E006, E007
// Structure comes before compatibility, capacity and names.
static_assert(is_rule_v<check_t<pipeline<fashion, on_cpu, ddp4, cnn, reg, export_onnx<opset<18>>,
                                         export_onnx<opset<17>>>>,
                        rules::E002_duplicate_stage>);  // also E019
static_assert(is_rule_v<check_t<pipeline<cpu_env, compute<azure::nc6>, cnn>>,
                        rules::E003_train_requires_dataset>);  // also E016
static_assert(is_rule_v<check_t<pipeline<fashion, on_cpu, distributed<procs<0>>, cnn>>,
                        rules::E010_missing_required_parameter>);  // also E025
static_assert(is_rule_v<check_t<pipeline<fashion, on_cpu, cnn, register_model<"my model", int>>>,
                        rules::E008_unknown_parameter>);  // also E030

// is_valid_v reads the verdict the pipeline's last node holds, check_t evaluates the catalog
// again over the whole pipeline: they agree, valid or broken.
template <class P>
constexpr bool verdicts_agree = is_valid_v<P> == is_satisfied_v<check_t<P>>;
static_assert(verdicts_agree<pipeline<fashion, cpu_env, on_cpu, ddp4, cnn, reg, onnx>>);
static_assert(!is_valid_v<pipeline<fashion, cnn, on_cpu>> &&
              verdicts_agree<pipeline<fashion, cnn, on_cpu>>);  // E001
static_assert(!is_valid_v<pipeline<fashion, cnn, cnn>> &&
              verdicts_agree<pipeline<fashion, cnn, cnn>>);  // E002
static_assert(!is_valid_v<pipeline<cpu_env, cnn>> &&
              verdicts_agree<pipeline<cpu_env, cnn>>);  // E003
static_assert(!is_valid_v<pipeline<fashion, train<models::small_cnn, procs<4>>>> &&
              verdicts_agree<pipeline<fashion, train<models::small_cnn, procs<4>>>>);  // E008
static_assert(!is_valid_v<pipeline<dataset<idx>, cnn>> &&
              verdicts_agree<pipeline<dataset<idx>, cnn>>);  // E010
static_assert(!is_valid_v<pipeline<fashion, cpu_env, compute<azure::nc6>, cnn>> &&
              verdicts_agree<pipeline<fashion, cpu_env, compute<azure::nc6>, cnn>>);  // E016

// The `stage` concept names only `facts.params`; every stage has the whole protocol.
template <class S>
concept stage_protocol = stage<S> && requires {
  { S::order } -> std::convertible_to<stage_order>;
  typename S::accepted_kinds;
  typename S::required_kinds;
  typename S::param_kinds;
  { S::facts.params } -> std::convertible_to<param_flags>;
};
static_assert(stage_protocol<fashion> && stage_protocol<cpu_env> && stage_protocol<on_cpu> &&
              stage_protocol<ddp4> && stage_protocol<cnn> && stage_protocol<reg> &&
              stage_protocol<onnx>);
static_assert(!stage<pipeline<fashion>> && !stage<int>);

// A `|` learns which stage it adds from the type of the stage's facts (order_of_facts).
template <class S>
constexpr bool facts_name_the_order =
    order_of_facts<std::remove_cvref_t<decltype(S::facts)>> == S::order;
static_assert(facts_name_the_order<fashion> && facts_name_the_order<cpu_env> &&
              facts_name_the_order<on_cpu> && facts_name_the_order<ddp4> &&
              facts_name_the_order<cnn> && facts_name_the_order<reg> &&
              facts_name_the_order<onnx>);
