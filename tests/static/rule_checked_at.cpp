// Every rule names the stages whose `|` checks it (`checked_at`), and a `|` evaluates only the
// rules `rules_to_evaluate` names: those checked at the stage it adds, and those on the structure
// flags when it sets one. Here: over sample pipelines that break no rule (the empty one, every
// sample stage alone, every pair) and every sample stage added to them, the rule the `|` reports
// is the first rule of the whole catalog that the longer pipeline breaks, or none when it breaks
// none. The samples break or bend each rule.
#include <trellis/trellis.hpp>

#include <cstddef>

using namespace trellis;

namespace rule_checked_at {

/// Sample stages, in stage order.
template <class... S>
struct samples {
  static constexpr std::size_t count = sizeof...(S);
  static constexpr pipeline_facts single[count] = {with_stage<S>(pipeline_facts{})...};

  /// The empty pipeline, every sample alone, every pair of samples.
  struct base_set {
    pipeline_facts items[1 + count + count * count]{};
    std::size_t size = 0;
  };
  template <class Later>
  static constexpr void add_pairs(base_set& bases) {
    for (std::size_t i = 0; i < count; ++i)
      bases.items[bases.size++] = with_stage<Later>(single[i]);
  }
  static constexpr base_set bases = [] {
    base_set b;
    b.items[b.size++] = pipeline_facts{};
    for (const auto& f : single) b.items[b.size++] = f;
    (add_pairs<S>(b), ...);
    return b;
  }();

  /// For every base that breaks no rule, the `|` that adds `Added` reports the first rule of
  /// the catalog that the longer pipeline breaks (0: none), having evaluated only some.
  template <class Added>
  static constexpr bool reported_as_by_catalog() {
    for (std::size_t i = 0; i < bases.size; ++i) {
      if (rules::catalog::first_broken<every_stage>(bases.items[i]) != 0) continue;
      const node_state longer = extend(node_state{bases.items[i]}, Added::facts);
      if (longer.broken != rules::catalog::first_broken<every_stage>(longer.facts)) return false;
    }
    return true;
  }
};

using sample_stages = samples<
    dataset<idx, classes<10>, input_shape<1, 28, 28>>, dataset<image_folder, classes<1>>,
    dataset<idx>, environment<curated::pytorch_cpu>, environment<custom<"azureml-env">>,
    environment<custom<"env">, cuda<10, 1>, with_mpi>,
    environment<custom<"env">, torch_version<2, 5>, cuda<11, 7>>, compute<local::cpu>,
    compute<local::cpu, low_priority>, compute<local::cuda<gpus<2>>>, compute<azure::nc6>,
    compute<azure::d2_v2, cluster<"bad name">>, compute<azure::nc24ads_a100_v4, max_nodes<1>>,
    compute<azure::nd96asr_v4, min_nodes<9>, low_priority>, compute<azure::d2_v2, max_nodes<0>>,
    distributed<PyTorch>, distributed<PyTorch, nodes<4>, procs<2>, gloo>,
    distributed<PyTorch, nccl, procs<3>>, distributed<PyTorch, procs<0>>,
    distributed<Horovod, per_node, max_restarts<1>>, train<models::small_cnn>,
    train<models::resnet18, epochs<0>, global_batch<3>, checkpoint_every<0>>,
    train<models::small_cnn, select_best<"f1">, transfer_from<"bad name">>,
    train<models::small_cnn, select_best<"test_accuracy">>,
    train<models::small_cnn, procs<2>>, train<models::small_cnn, epochs<1>, epochs<2>>,
    register_model<"bad name">, register_model<"model">, export_onnx<opset<3>>,
    export_onnx<opset<17>>>;

// One check per added stage, so a failure names the stage in its instantiation context.
template <class Added>
constexpr bool checked_where_it_can_break() {
  static_assert(sample_stages::reported_as_by_catalog<Added>(),
                "adding this stage broke a rule its | does not check, and no earlier one");
  return true;
}
template <class... S>
constexpr bool every_stage_checked(samples<S...>) {
  return (checked_where_it_can_break<S>() && ...);
}
static_assert(every_stage_checked(sample_stages{}));

// The argument above also needs the empty pipeline to break no rule.
static_assert(rules::catalog::first_broken<every_stage>(pipeline_facts{}) == 0);

}  // namespace rule_checked_at
