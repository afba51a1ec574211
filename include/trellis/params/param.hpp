// How a stage reads its parameters: every parameter type names its `kind`, and every kind
// has a `layer` that sets the stage member named like the kind (`kinds::epochs` sets
// `epochs`). A stage's `given_t<Defaults, Ps...>` is its defaults with one layer per given
// parameter, so reading a member is plain name look-up. Unknown or repeated kinds are reported
// by rules E008/E009.
#pragma once
#include <cstddef>

#include "trellis/text.hpp"

namespace trellis {

/// Marks "this parameter was not given" where a stage has no default for it.
struct absent {};

/// The kind of anything that is not a stage parameter (rule E008); its layer sets nothing.
struct not_a_parameter {
  template <class P, class Base>
  using layer = Base;
};

/// The kind of a stage parameter: `P::kind` when that kind has a layer, else not_a_parameter.
template <class P>
struct kind_of {
  using type = not_a_parameter;
};
template <class P>
  requires requires { typename P::kind::template layer<P, absent>; }
struct kind_of<P> {
  using type = typename P::kind;
};
template <class P>
using kind_of_t = typename kind_of<P>::type;

/// Declares the parameter kind `Name`: its layer sets the stage member `Name` to the parameter
/// given. A macro because it declares a member with a given name, which no template can.
#define TRELLIS_KIND(Name)         \
  struct Name {                    \
    template <class P, class Base> \
    struct layer : Base {          \
      using Name = P;              \
    };                             \
  }

namespace detail {
// Each step is a class g++ makes per stage type, so one step nests up to three layers: most
// stages are given one to three parameters.
template <class Base, class... Ps>
struct layered {
  using type = Base;
};
template <class P, class Base>
using layer_t = typename kind_of_t<P>::template layer<P, Base>;
template <class Base, class P>
struct layered<Base, P> {
  using type = layer_t<P, Base>;
};
template <class Base, class P1, class P2>
struct layered<Base, P1, P2> {
  using type = layer_t<P2, layer_t<P1, Base>>;
};
template <class Base, class P1, class P2, class P3>
struct layered<Base, P1, P2, P3> {
  using type = layer_t<P3, layer_t<P2, layer_t<P1, Base>>>;
};
template <class Base, class P1, class P2, class P3, class P4, class... Ps>
struct layered<Base, P1, P2, P3, P4, Ps...>
    : layered<layer_t<P4, layer_t<P3, layer_t<P2, layer_t<P1, Base>>>>, Ps...> {};
}  // namespace detail

/// `Defaults` with a layer per parameter in `Ps`: `given_t<D, Ps...>::epochs` is the
/// parameter of kind `kinds::epochs` when one is given, else `D::epochs`; of a repeated kind
/// (rule E009) the last one wins. Reading a member is a name look-up, so a stage costs g++ a
/// class per given parameter instead of an overload resolution per accepted kind, given or
/// not.
template <class Defaults, class... Ps>
using given_t = typename detail::layered<Defaults, Ps...>::type;

/// The value (or name) of the parameter `P`, or `fallback` when `P` is `absent`: for defaults
/// that depend on other parameters, such as compute's max_nodes on its target.
template <class P>
constexpr std::size_t value_or(std::size_t fallback) {
  if constexpr (__is_same(P, absent))
    return fallback;
  else
    return P::value;
}
template <class P>
constexpr text_view name_or(text_view fallback) {
  if constexpr (__is_same(P, absent))
    return fallback;
  else
    return P::name;
}

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

/// Whether every kind in the kind_list `Kinds` is in the kind_list `Accepted` (rules E008, E010).
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

/// What a stage's parameters break, the first member of its `facts`: a parameter it does not
/// accept (rule E008), a kind given twice (E009), a kind it requires not given (E010).
struct param_flags {
  bool unknown = false, repeated = false, missing = false;
};
/// The param_flags of a stage that accepts the kinds `Accepted`, requires the kinds `Required`
/// and was given parameters of the kinds `Given` (kind_lists): one constant per three lists,
/// which stage types that differ only in parameter values share.
template <class Accepted, class Required, class Given>
inline constexpr param_flags param_flags_v{!kinds_accepted_v<Accepted, Given>,
                                           kinds_repeated_v<Given>,
                                           !kinds_accepted_v<Given, Required>};

}  // namespace trellis
