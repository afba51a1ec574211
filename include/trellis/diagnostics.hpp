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

template <class... Rules>
struct rule_list {};

namespace detail {
template <class Rule, class View>
struct lazy_context {  // names the context only once the rule is known to be broken
  using type = typename Rule::template context<View>;
};
template <class View, class List>
struct first_violation {
  using type = satisfied;
};
template <class View, class Rule, class... Rest>
struct first_violation<View, rule_list<Rule, Rest...>>
    : std::conditional_t<Rule::template violated<View>,
                         lazy_context<Rule, View>,
                         first_violation<View, rule_list<Rest...>>> {};
}  // namespace detail

/// The first rule of `Rules` (in catalog order) that `View` breaks, or `satisfied`.
template <class View, class Rules>
using first_violation_t = typename detail::first_violation<View, Rules>::type;

/// Names a stage in a rule's context, e.g. E002_duplicate_stage<in_stage<stage_order::train>>.
template <auto Stage>
struct in_stage {};

}  // namespace trellis
