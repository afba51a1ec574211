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

namespace detail {
template <stage S>
constexpr pipeline<S> as_pipeline(S s) {
  return {{slot<0, S>{std::move(s)}}};
}
template <class... S>
constexpr pipeline<S...> as_pipeline(pipeline<S...> p) {
  return p;
}
template <class... S, std::size_t... I, stage R>
constexpr pipeline<S..., R> append(pipeline<S...>&& p, R&& r, std::index_sequence<I...>) {
  return {{std::move(static_cast<slot<I, S>&>(p))..., slot<sizeof...(S), R>{std::move(r)}}};
}
}  // namespace detail

template <class L, stage R>
  requires(stage<L> || is_pipeline_v<L>)
constexpr auto operator|(L lhs, R rhs) {
  auto prefix = detail::as_pipeline(std::move(lhs));
  using longer = decltype(detail::append(std::move(prefix), std::move(rhs),
                                         std::make_index_sequence<decltype(prefix)::size>{}));
  // A pipeline on the left was checked by the `|` that made it; a lone stage was not.
  if constexpr (check<longer>::broken != 0 && (stage<L> || check<L>::broken == 0))
    rules::diagnose(check_t<longer>{});
  return detail::append(std::move(prefix), std::move(rhs),
                        std::make_index_sequence<decltype(prefix)::size>{});
}

}  // namespace trellis
