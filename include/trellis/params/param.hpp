// How stage parameters are found: every parameter type names its `kind`, and a stage looks
// its parameters up by kind. Unknown or repeated kinds are reported by rules E008/E009.
#pragma once
#include <cstddef>
#include <type_traits>
#include <utility>

namespace trellis {

/// Marks "this parameter was not given" in look-ups.
struct absent {
  using kind = absent;
};

/// The kind of a stage parameter; anything without a `kind` is `not_a_parameter` (rule E008).
struct not_a_parameter {};
template <class P>
struct kind_of {
  using type = not_a_parameter;
};
template <class P>
  requires requires { typename P::kind; }
struct kind_of<P> {
  using type = typename P::kind;
};
template <class P>
using kind_of_t = typename kind_of<P>::type;

namespace detail {
template <class Kind, class P, std::size_t I>
struct slot_of {};
template <class Indices, class... Ps>
struct param_set;
template <std::size_t... I, class... Ps>
struct param_set<std::index_sequence<I...>, Ps...> : slot_of<kind_of_t<Ps>, Ps, I>... {};
// Deduces the one parameter of `Kind`; none or several fall back to `Default` (a repeat is
// reported by rule E009).
template <class Kind, class Default, class P, std::size_t I>
P pick(const slot_of<Kind, P, I>*);
template <class Kind, class Default>
Default pick(const void*);
}  // namespace detail

/// The parameter of kind `Kind` among `Ps`, or `Default` when none is given.
template <class Kind, class Default, class... Ps>
using param_t = decltype(detail::pick<Kind, Default>(
    static_cast<const detail::param_set<std::index_sequence_for<Ps...>, Ps...>*>(nullptr)));

// __is_same is a builtin of g++ and clang: comparing kinds instantiates no template per pair.
template <class Kind, class... Ps>
inline constexpr bool has_param_v = (__is_same(kind_of_t<Ps>, Kind) || ...);

template <class Kind, class... Ps>
inline constexpr std::size_t count_kind_v = (std::size_t{__is_same(kind_of_t<Ps>, Kind)} + ... + 0);

/// True when some kind appears more than once among `Ps` (rule E009).
template <class... Ps>
inline constexpr bool has_repeated_kind_v = ((count_kind_v<kind_of_t<Ps>, Ps...> > 1) || ...);

template <class... Kinds>
struct kind_list {};

template <class Kind, class... Accepted>
inline constexpr bool is_one_of_v = (__is_same(Kind, Accepted) || ...);

/// Whether every parameter's kind is accepted (rule E008); folds, no recursion.
template <class Accepted, class Params>
struct param_kinds_accepted;
template <class... A, class... Ps>
struct param_kinds_accepted<kind_list<A...>, kind_list<Ps...>>
    : std::bool_constant<(is_one_of_v<kind_of_t<Ps>, A...> && ...)> {};

/// Whether some kind is given twice (rule E009).
template <class Params>
struct param_kinds_repeated;
template <class... Ps>
struct param_kinds_repeated<kind_list<Ps...>> : std::bool_constant<has_repeated_kind_v<Ps...>> {};

}  // namespace trellis
