// Structure rules E001-E010: stage order and uniqueness, stages that need another stage,
// and parameters a stage does not take, repeats or lacks.
#pragma once
#include <cstddef>
#include <type_traits>

#include "trellis/text.hpp"
#include "trellis/diagnostics.hpp"
#include "trellis/params/param.hpp"
#include "trellis/pipeline_view.hpp"
#include "trellis/rules/facts.hpp"

namespace trellis::rules {

namespace detail {
// The offending stages, for the rule's context (only computed once a rule is broken).
template <class V>
constexpr std::size_t first_order_break() {  // index of the first stage placed too early
  for (std::size_t i = 1; i < V::count; ++i)
    if (V::orders[i] < V::orders[i - 1]) return i;
  return 0;
}
template <class V>
constexpr std::size_t first_repeat() {  // index of the first stage seen before
  for (std::size_t i = 1; i < V::count; ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (V::orders[i] == V::orders[j]) return i;
  return 0;
}

template <class Accepted, class Params>
struct first_unaccepted {
  using type = absent;
};
template <class... A, class P, class... Ps>
struct first_unaccepted<kind_list<A...>, kind_list<P, Ps...>>
    : std::conditional_t<(std::is_same_v<kind_of_t<P>, A> || ...),
                         first_unaccepted<kind_list<A...>, kind_list<Ps...>>,
                         std::type_identity<P>> {};

template <class Params>
struct first_repeated {
  using type = absent;
};
template <class P, class... Ps>
struct first_repeated<kind_list<P, Ps...>>
    : std::conditional_t<has_kind_v<kind_of_t<P>, kinds_of<Ps...>>, std::type_identity<P>,
                         first_repeated<kind_list<Ps...>>> {};

/// The first stage (in pipeline order) for which `Find<Stage>::type` is not `absent`.
template <template <class> class Find, class... S>
struct first_stage_with {
  using stage = absent;
  using found = absent;
};
template <template <class> class Find, class S, class... Rest>
struct first_stage_with<Find, S, Rest...> {
  static constexpr bool here = !std::is_same_v<typename Find<S>::type, absent>;
  using next = first_stage_with<Find, Rest...>;
  using stage = std::conditional_t<here, S, typename next::stage>;
  using found = std::conditional_t<here, typename Find<S>::type, typename next::found>;
};
/// The parameters a stage was given, as a kind_list; only named once a rule is broken, so
/// stages need no member for it (a member is declared again for every stage type).
template <class S>
struct params_of;
template <template <class...> class Stage, class... Ps>
struct params_of<Stage<Ps...>> {
  using type = kind_list<Ps...>;
};
template <template <auto, class...> class Stage, auto Name, class... Ps>
struct params_of<Stage<Name, Ps...>> {  // register_model<"name", Ps...>
  using type = kind_list<Ps...>;
};
template <class S>
struct unaccepted_param
    : first_unaccepted<typename S::accepted_kinds, typename params_of<S>::type> {};
template <class S>
struct repeated_param : first_repeated<typename params_of<S>::type> {};
template <class S>
struct missing_required
    : std::conditional_t<S::facts.params.missing, std::type_identity<in_stage<S::order>>,
                         std::type_identity<absent>> {};

template <class V>
struct stages_of;
template <class... S>
struct stages_of<pipeline_view<S...>> {
  template <template <class> class Find>
  using first = first_stage_with<Find, S...>;
};
template <class V, template <class> class Find>
using offending_t = typename stages_of<V>::template first<Find>::found;
}  // namespace detail

template <class... Ctx>
struct E001_stage_order : rule<structure_flags> {
  static constexpr bool violated(const pipeline_facts& f) {
    return f.out_of_order;
  }
  template <class V>
  using context = E001_stage_order<in_stage<V::orders[detail::first_order_break<V>()]>,
                                   in_stage<V::orders[detail::first_order_break<V>() - 1]>>;
};
template <class... C>
constexpr void diagnose(E001_stage_order<C...>) {
  static_assert(dependent_false<C...>,
                "[trellis E001] pipeline: a stage comes after a stage that must follow it. Fix: "
                "order stages as dataset | environment | compute | distributed | train | "
                "register_model | export_onnx.");
}

template <class... Ctx>
struct E002_duplicate_stage : rule<structure_flags> {
  static constexpr bool violated(const pipeline_facts& f) {
    return f.repeated_stage;
  }
  template <class V>
  using context = E002_duplicate_stage<in_stage<V::orders[detail::first_repeat<V>()]>>;
};
template <class... C>
constexpr void diagnose(E002_duplicate_stage<C...>) {
  static_assert(dependent_false<C...>,
                "[trellis E002] pipeline: the same stage appears twice. Fix: keep one of each "
                "stage; merge their parameters.");
}

template <class... Ctx>
struct E003_train_requires_dataset : rule<stages(stage_order::train)> {
  static constexpr bool violated(const pipeline_facts& f) {
    return f.has.train && !f.has.dataset;
  }
  template <class V>
  using context = E003_train_requires_dataset<typename V::train>;
};
template <class... C>
constexpr void diagnose(E003_train_requires_dataset<C...>) {
  static_assert(dependent_false<C...>,
                "[trellis E003] train: there is no dataset to train on. Fix: start the pipeline "
                "with dataset<...>{.root = ...}.");
}

template <class... Ctx>
struct E004_register_requires_train : rule<stages(stage_order::register_model)> {
  static constexpr bool violated(const pipeline_facts& f) {
    return f.has.register_model && !f.has.train;
  }
  template <class V>
  using context = E004_register_requires_train<typename V::register_model>;
};
template <class... C>
constexpr void diagnose(E004_register_requires_train<C...>) {
  static_assert(dependent_false<C...>,
                "[trellis E004] register_model: there is no train stage whose model it could "
                "register. Fix: add train<...> before register_model.");
}

template <class... Ctx>
struct E005_export_requires_train : rule<stages(stage_order::export_onnx)> {
  static constexpr bool violated(const pipeline_facts& f) {
    return f.has.export_onnx && !f.has.train;
  }
  template <class V>
  using context = E005_export_requires_train<typename V::export_onnx>;
};
template <class... C>
constexpr void diagnose(E005_export_requires_train<C...>) {
  static_assert(dependent_false<C...>,
                "[trellis E005] export_onnx: there is no train stage whose model it could export. "
                "Fix: add train<...> before export_onnx.");
}

template <class... Ctx>
struct E006_export_requires_static_shape : rule<stages(stage_order::export_onnx)> {
  static constexpr bool violated(const pipeline_facts& f) {
    return f.has.export_onnx && f.has.dataset &&
           !f.dataset->static_shape;
  }
  template <class V>
  using context = E006_export_requires_static_shape<typename V::dataset>;
};
template <class... C>
constexpr void diagnose(E006_export_requires_static_shape<C...>) {
  static_assert(dependent_false<C...>,
                "[trellis E006] export_onnx: the dataset has no static input shape to trace the "
                "model with. Fix: give the dataset input_shape<C, H, W>.");
}

template <class... Ctx>
struct E007_distributed_requires_compute : rule<stages(stage_order::distributed)> {
  static constexpr bool violated(const pipeline_facts& f) {
    return f.has.distributed && !f.has.compute;
  }
  template <class V>
  using context = E007_distributed_requires_compute<typename V::distributed>;
};
template <class... C>
constexpr void diagnose(E007_distributed_requires_compute<C...>) {
  static_assert(dependent_false<C...>,
                "[trellis E007] distributed: there is no compute stage to place the ranks on. "
                "Fix: add compute<local::cpu> (or a GPU or Azure target) before distributed.");
}

template <class... Ctx>
struct E008_unknown_parameter : rule<structure_flags> {
  static constexpr bool violated(const pipeline_facts& f) {
    return f.unknown_param;
  }
  template <class V>
  using context = E008_unknown_parameter<
      in_stage<detail::stages_of<V>::template first<detail::unaccepted_param>::stage::order>,
      detail::offending_t<V, detail::unaccepted_param>>;
};
template <class... C>
constexpr void diagnose(E008_unknown_parameter<C...>) {
  static_assert(dependent_false<C...>,
                "[trellis E008] stage: a parameter does not belong to this stage. Fix: move it "
                "to the stage that takes it (see docs/errors.md#e008).");
}

template <class... Ctx>
struct E009_duplicate_parameter : rule<structure_flags> {
  static constexpr bool violated(const pipeline_facts& f) {
    return f.repeated_param;
  }
  template <class V>
  using context = E009_duplicate_parameter<
      in_stage<detail::stages_of<V>::template first<detail::repeated_param>::stage::order>,
      detail::offending_t<V, detail::repeated_param>>;
};
template <class... C>
constexpr void diagnose(E009_duplicate_parameter<C...>) {
  static_assert(dependent_false<C...>,
                "[trellis E009] stage: a parameter of the same kind is given twice. Fix: keep "
                "one value.");
}

template <class... Ctx>
struct E010_missing_required_parameter : rule<structure_flags> {
  static constexpr bool violated(const pipeline_facts& f) {
    return f.missing_param;
  }
  template <class V>
  using context = E010_missing_required_parameter<detail::offending_t<V, detail::missing_required>>;
};
template <class... C>
constexpr void diagnose(E010_missing_required_parameter<C...>) {
  static_assert(dependent_false<C...>,
                "[trellis E010] stage: a required parameter is missing (dataset: a kind and "
                "classes<N>; environment: a preset or custom<\"name\">; compute: a target; "
                "distributed: a framework; train: a model). Fix: add it.");
}

}  // namespace trellis::rules
