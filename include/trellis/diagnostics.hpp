// The check protocol: a rule is a type with a stable id and a `violated<View>` predicate;
// a check result is `satisfied` or the rule type with the offending values as arguments,
// so tests can ask which rule fired without failing the build.
#pragma once
#include <cstddef>
#include <type_traits>

#include "trellis/text.hpp"

namespace trellis {

struct satisfied {};

template <class R>
inline constexpr bool is_satisfied_v = std::is_same_v<R, satisfied>;

/// g++ 12 rejects static_assert(false) in a template; this stays false but dependent.
template <class...>
inline constexpr bool dependent_false = false;

/// Base of every rule: its id (E0xx).
template <std::size_t Id>
struct rule {
  static constexpr std::size_t id = Id;
};

/// True when check result `R` is (an instance of) rule template `Rule`.
template <class R, template <class...> class Rule>
inline constexpr bool is_rule_v = false;
template <template <class...> class Rule, class... Ctx>
inline constexpr bool is_rule_v<Rule<Ctx...>, Rule> = true;

/// The ordered rules; `first_broken` is the 1-based position of the first rule the facts
/// break, or 0. One constant evaluation, short-circuited like an if-chain.
template <class... Rules>
struct rule_list {
  template <class Facts>
  static constexpr std::size_t first_broken(const Facts& f) {
    std::size_t position = 0;
    const bool broken = ((++position, Rules::violated(f)) || ...);
    return broken ? position : 0;
  }
};

namespace detail {
// LazyView::type is the pipeline_view the broken rule names its context from; it is only
// instantiated for a broken pipeline.
template <std::size_t Position, class List, class LazyView>
struct rule_context {  // Position 0: nothing is broken
  using type = satisfied;
};
template <class Rule, class... Rest, class LazyView>
struct rule_context<1, rule_list<Rule, Rest...>, LazyView> {  // only the broken rule is named
  using type = typename Rule::template context<typename LazyView::type>;
};
template <std::size_t Position, class Rule, class... Rest, class LazyView>
  requires(Position > 1)
struct rule_context<Position, rule_list<Rule, Rest...>, LazyView>
    : rule_context<Position - 1, rule_list<Rest...>, LazyView> {};
}  // namespace detail

/// Names a stage in a rule's context, e.g. E002_duplicate_stage<in_stage<stage_order::train>>.
template <auto Stage>
struct in_stage {};

}  // namespace trellis
