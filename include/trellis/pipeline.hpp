// Pipelines and `operator|`. A pipeline is built one stage at a time: `p | s` holds `p` and `s`
// side by side, so each `|` copies its operands once and adds one stage's facts to the facts
// its left side already has. Each `|` evaluates the rules of rules/catalog.hpp that read the
// stage it adds, and the rules on the structure flags when it sets one (the others cannot have
// changed); a rule fires in the `|` that makes the mistake, and that `|` still returns the
// longer pipeline, so one mistake gives one error, not a cascade.
#pragma once
#include <cstddef>
#include <type_traits>

#include "trellis/diagnostics.hpp"
#include "trellis/pipeline_view.hpp"
#include "trellis/rules/catalog.hpp"
#include "trellis/rules/facts.hpp"
#include "trellis/stages/stage.hpp"

namespace trellis {

/// The rules the `|` that added a stage of order `added` evaluates, `after` being the facts it
/// made: those that read that stage, and those on the structure flags once one is set. Only
/// these can have changed their verdict.
constexpr stage_set rules_to_evaluate(const pipeline_facts& after, stage_order added) {
  return stages(added) | (after.structure_broken() ? structure_flags : 0);
}

namespace detail {
/// What comes before the first stage: nothing to store, no facts, no stages.
struct no_stages {
  static constexpr std::size_t size() { return 0; }
  static constexpr pipeline_facts facts{};
  using broken = std::integral_constant<std::size_t, 0>;
};
}  // namespace detail

/// A pipeline: the pipeline `Prefix` (or nothing) followed by the stage `Last`. Write its type
/// as `pipeline<S...>`; `pipeline_view_t<P>` gives its stage list to rules and plan writers.
/// Nothing here names the whole stage list: each `|` only adds its stage's facts, so building
/// a pipeline of n stages costs n steps, not n².
template <class Prefix, stage Last>
struct pipeline_node {
  // g++ gives every static constant of a pipeline type a symbol, mangled from the whole stage
  // list even when no code uses it: so the size is a function, made only when called, and
  // `broken` a type. Together 0.8 M compiler instructions per 7-stage pipeline less at -O0.
  static constexpr std::size_t size() { return Prefix::size() + 1; }
  // add_stage, not with_stage<Last>: one function template fewer made per stage type.
  static constexpr pipeline_facts facts = add_stage(Prefix::facts, structure_of<Last>, Last::facts);
  /// `broken::value` is nonzero when a rule is broken: the rule the first broken prefix broke,
  /// or else the first rule `Last` breaks, as only the rules that `rules_to_evaluate` names can
  /// have changed.
  using broken = std::integral_constant<
      std::size_t,
      Prefix::broken::value != 0
          ? Prefix::broken::value
          : rules::catalog::first_broken<rules_to_evaluate(facts, Last::order)>(facts)>;

  // The first node's empty prefix keeps its byte: with it, g++ sees a pipeline of literals as
  // one complete constant and copies it in one block (without, it stores field by field).
  Prefix prefix;
  Last last;
};

namespace detail {
template <class Prefix, class... S>
struct nest {
  using type = Prefix;
};
template <class Prefix, class S, class... Rest>
struct nest<Prefix, S, Rest...> : nest<pipeline_node<Prefix, S>, Rest...> {};
}  // namespace detail

/// The type of `s1 | s2 | ... | sn`.
template <stage... S>
  requires(sizeof...(S) > 0)
using pipeline = typename detail::nest<detail::no_stages, S...>::type;

namespace detail {
template <class Pipeline, class... Later>
struct view_of {  // reached no_stages: Later holds every stage, in order
  using type = pipeline_view<Later...>;
};
template <class Prefix, class Last, class... Later>
struct view_of<pipeline_node<Prefix, Last>, Later...> : view_of<Prefix, Last, Later...> {};
}  // namespace detail

/// `pipeline_view<S...>` of the pipeline `pipeline<S...>`.
template <class Pipeline>
using pipeline_view_t = typename detail::view_of<Pipeline>::type;

/// Calls `f(stage)` for every stage of the pipeline `p`, in pipeline order. A free function,
/// not a member: members are declared again for every pipeline type a `|` makes.
template <class Prefix, class Last, class F>
constexpr void for_each_stage(pipeline_node<Prefix, Last>& p, F&& f) {
  if constexpr (Prefix::size() > 0) for_each_stage(p.prefix, f);
  f(p.last);
}
template <class Prefix, class Last, class F>
constexpr void for_each_stage(const pipeline_node<Prefix, Last>& p, F&& f) {
  if constexpr (Prefix::size() > 0) for_each_stage(p.prefix, f);
  f(p.last);
}

template <class T>
inline constexpr bool is_pipeline_v = false;
template <class Prefix, class Last>
inline constexpr bool is_pipeline_v<pipeline_node<Prefix, Last>> = true;

/// The pipeline's stage of order O (the first one, should a stage repeat); the pipeline must
/// have one: `get<stage_order::train>(p).lr = 0.1;`.
template <stage_order O, class Prefix, class Last>
constexpr auto& get(pipeline_node<Prefix, Last>& p) {
  static_assert(pipeline_node<Prefix, Last>::facts.with(O),
                "the pipeline has no stage of this order");
  if constexpr (Prefix::facts.with(O))
    return get<O>(p.prefix);
  else
    return p.last;
}
template <stage_order O, class Prefix, class Last>
constexpr const auto& get(const pipeline_node<Prefix, Last>& p) {
  static_assert(pipeline_node<Prefix, Last>::facts.with(O),
                "the pipeline has no stage of this order");
  if constexpr (Prefix::facts.with(O))
    return get<O>(p.prefix);
  else
    return p.last;
}

/// The first rule a pipeline (or a single stage) breaks, or `satisfied`.
template <class P>
struct check;
template <class Prefix, class Last>
struct check<pipeline_node<Prefix, Last>> {
  /// The 1-based position in the catalog of the first rule the pipeline breaks, or 0.
  static constexpr std::size_t broken =
      pipeline_node<Prefix, Last>::broken::value == 0
          ? 0
          : rules::catalog::first_broken<every_stage>(pipeline_node<Prefix, Last>::facts);
  // The stage list is only spelled out once a rule is broken, to name the offending stages.
  using type = typename detail::rule_context<broken, rules::catalog,
                                             detail::view_of<pipeline_node<Prefix, Last>>>::type;
};
template <stage S>
struct check<S> : check<pipeline<S>> {};
template <class P>
using check_t = typename check<P>::type;

template <class P>
inline constexpr bool is_valid_v = is_satisfied_v<check_t<P>>;
/// A pipeline is valid when no `|` that built it broke a rule, which its last node already
/// knows; naming check_t's rule list for it cost 0.3 M compiler instructions per pipeline.
template <class Prefix, class Last>
inline constexpr bool is_valid_v<pipeline_node<Prefix, Last>> =
    pipeline_node<Prefix, Last>::broken::value == 0;

// Stages are trivially copyable (see text.hpp), so `|` only copies its two operands, and is
// inlined even at -O0 so no function is emitted per pipeline type. A rule fires in the `|` that
// makes the mistake: only when the shorter pipeline (checked by the `|` that made it) broke none.
namespace detail {
/// A pipeline of one stage (`trellis::main` takes a lone stage too).
template <stage S>
constexpr pipeline<S> as_pipeline(const S& s) {
  return {{}, s};
}
}  // namespace detail

template <stage L, stage R>
[[gnu::always_inline]] constexpr pipeline_node<pipeline_node<detail::no_stages, L>, R> operator|(
    const L& lhs, const R& rhs) {
  using longer = pipeline_node<pipeline_node<detail::no_stages, L>, R>;
  if constexpr (longer::broken::value != 0) rules::diagnose(check_t<longer>{});
  return {{{}, lhs}, rhs};
}
template <class Prefix, class Last, stage R>
[[gnu::always_inline]] constexpr pipeline_node<pipeline_node<Prefix, Last>, R> operator|(
    const pipeline_node<Prefix, Last>& lhs, const R& rhs) {
  using longer = pipeline_node<pipeline_node<Prefix, Last>, R>;
  if constexpr (longer::broken::value != 0 && pipeline_node<Prefix, Last>::broken::value == 0)
    rules::diagnose(check_t<longer>{});
  return {lhs, rhs};
}

}  // namespace trellis
