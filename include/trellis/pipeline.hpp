// Pipelines and `operator|`. A pipeline is built one stage at a time: `p | s` holds `p` and `s`
// side by side, so each `|` copies its operands once and adds one stage's facts to the facts
// its left side already has. Each `|` evaluates the rules of rules/catalog.hpp checked at the
// stage it adds, and the rules on the structure flags when it sets one (no other can have become
// broken); a rule fires in the `|` that makes the mistake, and that `|` still returns the
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

/// The rules the `|` that added a stage of order `added` evaluates, when the facts it made
/// have a structure flag set (`structure_broken`) or not: those checked at that stage, and those
/// on the structure flags once one is set. No other can have become the first broken rule.
constexpr stage_set rules_to_evaluate(bool structure_broken, stage_order added) {
  return stages(added) | (structure_broken ? structure_flags : 0);
}
/// The same, from the facts `after` that `|` made.
constexpr stage_set rules_to_evaluate(const pipeline_facts& after, stage_order added) {
  return rules_to_evaluate(after.structure_broken(), added);
}

/// What a pipeline knows of itself at compile time: its facts; the 1-based catalog position of
/// the rule it breaks, or 0; and whether the `|` that made it broke that rule (rather than a
/// shorter pipeline it extends), which makes that `|` the one to report it.
struct node_state {
  pipeline_facts facts;
  std::size_t broken = 0;
  bool broken_here = false;
};

/// The state of `prefix` one stage longer, from the stage's `facts`. A broken
/// prefix keeps its rule, so one mistake gives one error, not a cascade; otherwise only the
/// rules `rules_to_evaluate` names are evaluated. A template only on the kind of stage facts
/// (seven instances); one call makes facts and verdict, as each name a pipeline node looks up
/// costs g++ work for every pipeline.
template <class StageFacts>
constexpr node_state extend(const node_state& prefix, const StageFacts& stage_facts) {
  node_state longer{add_stage(prefix.facts, stage_facts), prefix.broken};
  if (prefix.broken != 0) return longer;
  constexpr stage_order added = order_of_facts<StageFacts>;
  longer.broken =
      longer.facts.structure_broken()
          ? rules::catalog::first_broken<rules_to_evaluate(true, added)>(longer.facts)
          : rules::catalog::first_broken<rules_to_evaluate(false, added)>(longer.facts);
  longer.broken_here = longer.broken != 0;
  return longer;
}

namespace detail {
/// What comes before the first stage: nothing to store, no facts, no stages.
struct no_stages {
  static constexpr std::size_t size() { return 0; }
  static constexpr node_state state{};
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
  // facts and verdict share the one constant `state`.
  static constexpr std::size_t size() { return Prefix::size() + 1; }
  static constexpr node_state state = extend(Prefix::state, Last::facts);

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
  static_assert(pipeline_node<Prefix, Last>::state.facts.has.of(O),
                "the pipeline has no stage of this order");
  if constexpr (Prefix::state.facts.has.of(O))
    return get<O>(p.prefix);
  else
    return p.last;
}
template <stage_order O, class Prefix, class Last>
constexpr const auto& get(const pipeline_node<Prefix, Last>& p) {
  static_assert(pipeline_node<Prefix, Last>::state.facts.has.of(O),
                "the pipeline has no stage of this order");
  if constexpr (Prefix::state.facts.has.of(O))
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
      pipeline_node<Prefix, Last>::state.broken == 0
          ? 0
          : rules::catalog::first_broken<every_stage>(pipeline_node<Prefix, Last>::state.facts);
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
/// knows, rather than naming check_t's rule list for every pipeline.
template <class Prefix, class Last>
inline constexpr bool is_valid_v<pipeline_node<Prefix, Last>> =
    pipeline_node<Prefix, Last>::state.broken == 0;

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
  if constexpr (longer::state.broken != 0) rules::diagnose(check_t<longer>{});  // either stage
  return {{{}, lhs}, rhs};
}
template <class Prefix, class Last, stage R>
[[gnu::always_inline]] constexpr pipeline_node<pipeline_node<Prefix, Last>, R> operator|(
    const pipeline_node<Prefix, Last>& lhs, const R& rhs) {
  using longer = pipeline_node<pipeline_node<Prefix, Last>, R>;
  if constexpr (longer::state.broken_here) rules::diagnose(check_t<longer>{});
  return {lhs, rhs};
}

}  // namespace trellis
