// Every rule names the stages whose facts it reads, and a `|` evaluates only the rules that
// `rules_to_evaluate` names: those that read the stage it adds, and those on the structure flags
// when it sets one. Here: over sample pipelines (every sample stage alone and every pair, in and
// out of order) and sample stages that break or bend each rule, adding a stage never changes the
// verdict of a rule the `|` does not evaluate.
#include <trellis/trellis.hpp>

#include <cstddef>

using namespace trellis;

namespace rule_reads {

/// Sample stages, in stage order.
template <class... S>
struct samples {
  static constexpr std::size_t count = sizeof...(S);
  static constexpr stage_order orders[count] = {S::order...};
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

  /// Adding `Added` to any base leaves `Rule`'s verdict as it was, unless that `|` evaluates it.
  template <class Rule, class Added>
  static constexpr bool unchanged_by() {
    for (std::size_t i = 0; i < bases.size; ++i) {
      const pipeline_facts after = with_stage<Added>(bases.items[i]);
      if ((Rule::reads & rules_to_evaluate(after, Added::order)) == 0 &&
          Rule::violated(after) != Rule::violated(bases.items[i]))
        return false;
    }
    return true;
  }
  template <class Rule>
  static constexpr bool hold_for = (unchanged_by<Rule, S>() && ...);
};

using sample_stages = samples<
    dataset<idx, classes<10>, input_shape<1, 28, 28>>, dataset<image_folder, classes<1>>,
    dataset<idx>, environment<curated::pytorch_cpu>, environment<custom<"azureml-env">>,
    environment<custom<"env">, cuda<10, 1>, with_mpi>, compute<local::cpu>,
    compute<local::cpu, low_priority>, compute<local::cuda<gpus<2>>>, compute<azure::nc6>,
    compute<azure::d2_v2, cluster<"bad name">>, compute<azure::nc24ads_a100_v4, max_nodes<1>>,
    compute<azure::nd96asr_v4, min_nodes<9>, low_priority>, compute<azure::d2_v2, max_nodes<0>>,
    distributed<PyTorch>, distributed<PyTorch, nodes<4>, procs<2>, gloo>,
    distributed<PyTorch, nccl, procs<3>>, distributed<PyTorch, procs<0>>,
    distributed<Horovod, per_node, max_restarts<1>>, train<models::small_cnn>,
    train<models::resnet18, epochs<0>, global_batch<3>, checkpoint_every<0>>,
    train<models::small_cnn, select_best<"f1">, transfer_from<"bad name">>,
    train<models::small_cnn, procs<2>>, train<models::small_cnn, epochs<1>, epochs<2>>,
    register_model<"bad name">, register_model<"model">, export_onnx<opset<3>>,
    export_onnx<opset<17>>>;

// One check per rule, so a failure names the rule in its instantiation context.
template <class Rule>
constexpr bool reads_enough() {
  static_assert(sample_stages::hold_for<Rule>,
                "the rule's verdict changed when a stage it does not read was added");
  return true;
}
template <class... Rules>
constexpr bool every_rule_reads_enough(rule_list<Rules...>) {
  return (reads_enough<Rules>() && ...);
}
static_assert(every_rule_reads_enough(rules::catalog{}));

// The argument above also needs the empty pipeline to break no rule.
static_assert(rules::catalog::first_broken<every_stage>(pipeline_facts{}) == 0);

}  // namespace rule_reads
