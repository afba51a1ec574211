// The check protocol: a rule is a type named by its stable id with a `violated(facts)`
// predicate; a check result is `satisfied` or the rule type with the offending values as
// arguments, so tests can ask which rule fired without failing the build.
#pragma once
#include <concepts>
#include <cstddef>
#include <type_traits>
#include <utility>

#include "trellis/stages/stage.hpp"
#include "trellis/text.hpp"

namespace trellis {

struct satisfied {};

template <class R>
inline constexpr bool is_satisfied_v = std::is_same_v<R, satisfied>;

/// g++ 12 rejects static_assert(false) in a template; this stays false but dependent.
template <class...>
inline constexpr bool dependent_false = false;

/// A set of stage orders, one bit each, and one bit for the structure flags.
using stage_set = unsigned;
template <std::same_as<stage_order>... Orders>
constexpr stage_set stages(Orders... orders) {
  return ((stage_set{1} << static_cast<unsigned>(orders)) | ... | 0u);
}
/// Rules on the flags any stage may set (order, repeats, parameters): a `|` evaluates them only
/// when its stage sets one, not for every stage.
inline constexpr stage_set structure_flags = stage_set{1}
                                             << static_cast<unsigned>(stage_order::count);
/// Every rule, wherever it is checked.
inline constexpr stage_set every_stage = ~stage_set{0};

/// Base of every rule: the stages whose `|` checks it (`checked_at`), those whose addition can
/// break it. The rule's id is in its type's name alone (E023_procs_exceed_gpus); its message,
/// compile-fail test and docs/errors.md entry repeat it, and tests/rule_catalog_consistency.cmake
/// checks that they agree. A `|` checks rules only when the pipeline it extends breaks none, so
/// a rule need not be checked at a stage that can only mend it, such as E003's dataset, nor at
/// one that comes before another stage it needs, such as E026's distributed before its train: a
/// stage added out of order breaks a structure rule, and those come first in the catalog.
/// tests/static/rule_checked_at.cpp checks, over sample pipelines, that a `|` still reports the
/// first rule of the whole catalog that its pipeline breaks.
template <stage_set CheckedAt>
struct rule {
  static constexpr stage_set checked_at = CheckedAt;
};

/// True when check result `R` is (an instance of) rule template `Rule`.
template <class R, template <class...> class Rule>
inline constexpr bool is_rule_v = false;
template <template <class...> class Rule, class... Ctx>
inline constexpr bool is_rule_v<Rule<Ctx...>, Rule> = true;

/// The ordered rules; `first_broken<Added>` is the 1-based position of the first rule checked
/// at a stage in `Added` that the facts break, or 0. Only those rules are visited. Their
/// positions are an array made once per set of stages: filtering the rule types instead would
/// make g++ build a type list per set of stages in every translation unit.
template <class... Rules>
struct rule_list {
  static constexpr std::size_t count = sizeof...(Rules);
  static constexpr stage_set checked_at[count] = {Rules::checked_at...};
  struct positions {
    std::size_t at[count]{};
    std::size_t size = 0;
  };
  template <stage_set Added>
  static constexpr positions checking = [] {
    positions p;
    for (std::size_t i = 0; i < count; ++i)
      if ((checked_at[i] & Added) != 0) p.at[p.size++] = i;
    return p;
  }();

 private:
  // rule_at<I>: the rule at 0-based position I, found by overload resolution against one base
  // per position rather than by recursion.
  template <std::size_t I, class Rule>
  struct at_position {
    using type = Rule;
  };
  template <class Positions>
  struct positioned;
  template <std::size_t... I>
  struct positioned<std::index_sequence<I...>> : at_position<I, Rules>... {};
  template <std::size_t I, class Rule>
  static at_position<I, Rule> rule_at_(const at_position<I, Rule>&);
  template <std::size_t I>
  using rule_at =
      typename decltype(rule_at_<I>(positioned<std::make_index_sequence<count>>{}))::type;

  template <stage_set Added, std::size_t... K>
  static std::index_sequence<checking<Added>.at[K]...> sequence_of(std::index_sequence<K...>);

 public:
  /// The positions of the rules checked at a stage in `Added`, as a sequence type.
  template <stage_set Added>
  using checking_sequence =
      decltype(sequence_of<Added>(std::make_index_sequence<checking<Added>.size>{}));

  /// The 1-based position of the first of the rules at positions `P` that `f` breaks, or 0.
  /// Each rule's `violated` is called directly: an evaluation step fewer per rule than a call
  /// through an array of function pointers.
  template <std::size_t... P, class Facts>
  static constexpr std::size_t first_broken_of(const Facts& f, std::index_sequence<P...>) {
    std::size_t position = 0;
    static_cast<void>(((rule_at<P>::violated(f) ? (position = P + 1, true) : false) || ...));
    return position;
  }
  template <stage_set Added, class Facts>
  static constexpr std::size_t first_broken(const Facts& f) {
    return first_broken_of(f, checking_sequence<Added>{});
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
