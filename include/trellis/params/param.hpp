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

template <class... Kinds>
struct kind_list {};

/// The kinds of the parameters `Ps`. The checks below take kinds, not parameters, so g++ makes
/// them once per list of kinds: `train<m, epochs<30>>` and `train<m, epochs<31>>` share them.
template <class... Ps>
using kinds_of = kind_list<kind_of_t<Ps>...>;

// __is_same is a builtin of g++ and clang: comparing kinds instantiates no template per pair.
template <class Kind, class... Accepted>
inline constexpr bool is_one_of_v = (__is_same(Kind, Accepted) || ...);

/// Whether `Kind` is in the kind_list `Kinds`.
template <class Kind, class Kinds>
inline constexpr bool has_kind_v = false;
template <class Kind, class... Ks>
inline constexpr bool has_kind_v<Kind, kind_list<Ks...>> = is_one_of_v<Kind, Ks...>;

/// Whether every kind in the kind_list `Kinds` is in the kind_list `Accepted` (rule E008).
template <class Accepted, class Kinds>
inline constexpr bool kinds_accepted_v = false;
template <class... A, class... Ks>
inline constexpr bool kinds_accepted_v<kind_list<A...>, kind_list<Ks...>> =
    (is_one_of_v<Ks, A...> && ...);

template <class Kind, class... Ks>
inline constexpr std::size_t count_kind_v = (std::size_t{__is_same(Ks, Kind)} + ... + 0);

/// Whether some kind appears twice in the kind_list `Kinds` (rule E009).
template <class Kinds>
inline constexpr bool kinds_repeated_v = false;
template <class... Ks>
inline constexpr bool kinds_repeated_v<kind_list<Ks...>> = ((count_kind_v<Ks, Ks...> > 1) || ...);

}  // namespace trellis
