// pipeline_facts: every value a rule reads, gathered stage by stage into a constexpr struct:
// what every stage adds, and a pointer to each stage's own facts (`S::facts`, a constant of the
// stage type). Rules are then plain constexpr predicates on values, so checking a pipeline costs
// a constant evaluation instead of hundreds of template instantiations (the per-pipeline
// compile-time budget is a few milliseconds).
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

/// The facts of a stage the pipeline does not have: the defaults.
template <class StageFacts>
inline constexpr StageFacts no_stage_facts{};

namespace detail {
/// The member of `flags` (a stage_flags, const or not) for the stage of order `o`.
template <class Flags>
constexpr auto flag_of(Flags& flags, stage_order o) -> decltype((flags.dataset)) {
  switch (o) {
    case stage_order::dataset:
      return flags.dataset;
    case stage_order::environment:
      return flags.environment;
    case stage_order::compute:
      return flags.compute;
    case stage_order::distributed:
      return flags.distributed;
    case stage_order::train:
      return flags.train;
    case stage_order::register_model:
      return flags.register_model;
    default:
      return flags.export_onnx;
  }
}
}  // namespace detail

/// Which stages a pipeline has, a flag each, named like the stage: rules read `f.has.train`, a
/// member read, where a call such as `f.has.of(stage_order::train)` is one more step of g++'s
/// constant evaluator per read.
struct stage_flags {
  bool dataset = false, environment = false, compute = false, distributed = false, train = false,
       register_model = false, export_onnx = false;

  /// The flag of the stage of order `o`.
  constexpr bool& of(stage_order o) { return detail::flag_of(*this, o); }
  [[nodiscard]] constexpr bool of(stage_order o) const { return detail::flag_of(*this, o); }
};

struct pipeline_facts {
  // structure, kept as flags as stages are added (facts are copied once per `|`)
  std::size_t count = 0;
  stage_order last_order{};
  bool out_of_order = false, repeated_stage = false;
  stage_flags has{};
  bool unknown_param = false, repeated_param = false, missing_param = false;
  // each stage's `facts`, or the defaults when the pipeline has no such stage: pointers, so a
  // copy per `|` copies seven pointers rather than every value of every stage
  const dataset_facts* dataset = &no_stage_facts<dataset_facts>;
  const environment_facts* environment = &no_stage_facts<environment_facts>;
  const compute_facts* compute = &no_stage_facts<compute_facts>;
  const distributed_facts* distributed = &no_stage_facts<distributed_facts>;
  const train_facts* train = &no_stage_facts<train_facts>;
  const register_model_facts* register_model = &no_stage_facts<register_model_facts>;
  const export_onnx_facts* export_onnx = &no_stage_facts<export_onnx_facts>;

  /// Whether a stage came out of order or twice, or with a parameter wrong or missing.
  [[nodiscard]] constexpr bool structure_broken() const {
    return out_of_order || repeated_stage || unknown_param || repeated_param || missing_param;
  }
  [[nodiscard]] constexpr std::size_t world_size() const {
    return distributed->nodes * distributed->procs;
  }
  /// NCCL when asked for, or by default on GPUs (PyTorch DDP and Horovod-style mpi alike).
  [[nodiscard]] constexpr bool uses_nccl() const {
    return distributed->nccl || (!distributed->gloo && compute->has_gpus);
  }
};

namespace detail {
constexpr void set(pipeline_facts& f, const dataset_facts& s) { f.dataset = &s; }
constexpr void set(pipeline_facts& f, const environment_facts& s) { f.environment = &s; }
constexpr void set(pipeline_facts& f, const compute_facts& s) { f.compute = &s; }
constexpr void set(pipeline_facts& f, const distributed_facts& s) { f.distributed = &s; }
constexpr void set(pipeline_facts& f, const train_facts& s) { f.train = &s; }
constexpr void set(pipeline_facts& f, const register_model_facts& s) { f.register_model = &s; }
constexpr void set(pipeline_facts& f, const export_onnx_facts& s) { f.export_onnx = &s; }
/// The place of `T` in `List`, or the list's size when it is not there.
template <class T, class... List>
constexpr std::size_t index_in() {
  std::size_t i = 0;
  static_cast<void>(((__is_same(T, List) ? false : (++i, true)) && ...));
  return i;
}
}  // namespace detail

/// The order of the stage whose facts are of type `StageFacts`: its place in this list.
template <class StageFacts>
inline constexpr stage_order order_of_facts = static_cast<stage_order>(
    detail::index_in<StageFacts, dataset_facts, environment_facts, compute_facts,
                     distributed_facts, train_facts, register_model_facts, export_onnx_facts>());

/// The facts of a pipeline one stage longer, from the facts of the pipeline it extends and the
/// stage's `facts` (a constant of static storage: the result points at it), whose type gives
/// the stage's order. A template only on the kind of stage facts, so g++ makes it seven times,
/// not once per stage type.
template <class StageFacts>
constexpr pipeline_facts add_stage(const pipeline_facts& prefix, const StageFacts& stage_facts) {
  constexpr stage_order order = order_of_facts<StageFacts>;
  static_assert(order != stage_order::count, "order_of_facts lists every kind of stage facts");
  pipeline_facts f = prefix;
  f.out_of_order = f.out_of_order || (f.count > 0 && order < f.last_order);
  f.last_order = order;
  ++f.count;
  // every occurrence: E008-E010 come before E002 in the catalog
  f.unknown_param = f.unknown_param || stage_facts.params.unknown;
  f.repeated_param = f.repeated_param || stage_facts.params.repeated;
  f.missing_param = f.missing_param || stage_facts.params.missing;
  bool& present = f.has.of(order);
  if (present) {  // keeps the values of the first occurrence: rule E002 reports the repeat
    f.repeated_stage = true;
    return f;
  }
  present = true;
  detail::set(f, stage_facts);
  return f;
}

/// The facts of the pipeline `prefix | S`.
template <class S>
constexpr pipeline_facts with_stage(const pipeline_facts& prefix) {
  return add_stage(prefix, S::facts);
}

/// The facts of the pipeline of the stages `S...`, as the `|`s that build it gather them: for
/// pipeline_view, so that plan writers read the world size and the collective from the one
/// place rules read them.
template <class... S>
inline constexpr pipeline_facts facts_of = [] {
  pipeline_facts f;
  ((f = add_stage(f, S::facts)), ...);
  return f;
}();

}  // namespace trellis
