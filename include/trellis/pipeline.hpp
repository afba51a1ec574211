// pipeline<Stages...> and `operator|`. The operator only asks "is this a stage"; the rules of
// rules/catalog.hpp fire inside it, once, for the first mistake the new stage makes, and it
// still returns the longer pipeline so one mistake gives one error, not a cascade.
#pragma once
#include <cstddef>
#include <type_traits>
#include <utility>

#include "trellis/diagnostics.hpp"
#include "trellis/pipeline_view.hpp"
#include "trellis/rules/catalog.hpp"
#include "trellis/rules/facts.hpp"
#include "trellis/stages/stage.hpp"

namespace trellis {

namespace detail {
template <std::size_t I, class S>
struct slot {  // indexed, so a repeated stage (rule E002) is still a well-formed pipeline
  S value;
};
template <class Indices, class... S>
struct slots;
template <std::size_t... I, class... S>
struct slots<std::index_sequence<I...>, S...> : slot<I, S>... {};
}  // namespace detail

template <stage... Stages>
struct pipeline : detail::slots<std::index_sequence_for<Stages...>, Stages...> {
  using view = pipeline_view<Stages...>;
  static constexpr std::size_t size = sizeof...(Stages);

  /// Calls `f(stage)` for every stage, in pipeline order.
  template <class F>
  constexpr void for_each(F&& f) {
    for_each_impl(*this, f, std::index_sequence_for<Stages...>{});
  }
  template <class F>
  constexpr void for_each(F&& f) const {
    for_each_impl(*this, f, std::index_sequence_for<Stages...>{});
  }

 private:
  template <class Self, class F, std::size_t... I>
  static constexpr void for_each_impl(Self& self, F& f, std::index_sequence<I...>) {
    (f(static_cast<detail::slot<I, Stages>&>(self).value), ...);
  }
  template <class Self, class F, std::size_t... I>
  static constexpr void for_each_impl(const Self& self, F& f, std::index_sequence<I...>) {
    (f(static_cast<const detail::slot<I, Stages>&>(self).value), ...);
  }
};

namespace detail {
template <stage_order O, class... S>
constexpr std::size_t index_of_order() {  // the first stage of order O, or sizeof...(S)
  constexpr stage_order orders[] = {S::order...};
  for (std::size_t i = 0; i < sizeof...(S); ++i)
    if (orders[i] == O) return i;
  return sizeof...(S);
}
template <std::size_t I, class S>
constexpr S& value_at(slot<I, S>& s) {  // deduces the stage type from the slot base
  return s.value;
}
template <std::size_t I, class S>
constexpr const S& value_at(const slot<I, S>& s) {
  return s.value;
}
}  // namespace detail

/// The pipeline's stage of order O (the first one, should a stage repeat); the pipeline must
/// have one: `get<stage_order::train>(p).lr = 0.1;`.
template <stage_order O, class... S>
constexpr auto& get(pipeline<S...>& p) {
  static_assert(pipeline_view<S...>::template has<O>, "the pipeline has no stage of this order");
  return detail::value_at<detail::index_of_order<O, S...>()>(p);
}
template <stage_order O, class... S>
constexpr const auto& get(const pipeline<S...>& p) {
  static_assert(pipeline_view<S...>::template has<O>, "the pipeline has no stage of this order");
  return detail::value_at<detail::index_of_order<O, S...>()>(p);
}

template <class T>
inline constexpr bool is_pipeline_v = false;
template <class... S>
inline constexpr bool is_pipeline_v<pipeline<S...>> = true;

/// The first rule a pipeline (or a single stage) breaks, or `satisfied`.
template <class P>
struct check;
template <class... S>
struct check<pipeline<S...>> {
  static constexpr std::size_t broken = rules::catalog::first_broken(facts_v<S...>);
  using type = typename detail::rule_context<broken, rules::catalog, pipeline_view<S...>>::type;
};
template <stage S>
struct check<S> : check<pipeline<S>> {};
template <class P>
using check_t = typename check<P>::type;

template <class P>
inline constexpr bool is_valid_v = is_satisfied_v<check_t<P>>;

// Stages are trivially copyable (see text.hpp), so `|` only copies slots, and is inlined even at
// -O0 so no function is emitted per pipeline type. A rule fires once, in the `|` that makes the
// mistake: only when the shorter pipeline (checked by the `|` that made it) broke no rule.
namespace detail {
/// A pipeline of one stage (`trellis::main` takes a lone stage too).
template <stage S>
constexpr pipeline<S> as_pipeline(const S& s) {
  return {{slot<0, S>{s}}};
}
}  // namespace detail

template <stage L, stage R>
[[gnu::always_inline]] constexpr pipeline<L, R> operator|(const L& lhs, const R& rhs) {
  if constexpr (check<pipeline<L, R>>::broken != 0) rules::diagnose(check_t<pipeline<L, R>>{});
  return {{detail::slot<0, L>{lhs}, detail::slot<1, R>{rhs}}};
}
// Deduces the slot indices from pipeline<S...>'s base class, so no helper is instantiated.
template <std::size_t... I, class... S, stage R>
[[gnu::always_inline]] constexpr pipeline<S..., R> operator|(
    const detail::slots<std::index_sequence<I...>, S...>& lhs, const R& rhs) {
  if constexpr (check<pipeline<S..., R>>::broken != 0 && check<pipeline<S...>>::broken == 0)
    rules::diagnose(check_t<pipeline<S..., R>>{});
  return {{static_cast<const detail::slot<I, S>&>(lhs)..., detail::slot<sizeof...(S), R>{rhs}}};
}

}  // namespace trellis
