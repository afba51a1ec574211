// fixed_string: a string literal usable as a template argument, so names (models, clusters,
// environments, metrics) live in types and can be checked at compile time.
#pragma once
#include <cstddef>
#include <utility>

#include "trellis/text.hpp"

namespace trellis {

template <std::size_t N>
struct fixed_string {
  char value[N]{};
  constexpr fixed_string(const char (&text)[N])  // NOLINT: implicit by design
      : fixed_string{text, std::make_index_sequence<N>{}} {}
  [[nodiscard]] constexpr text_view view() const { return {value, N - 1}; }
  [[nodiscard]] constexpr std::size_t size() const { return N - 1; }

 private:
  // One initializer for all characters: a loop costs a constant-evaluation step per character.
  template <std::size_t... I>
  constexpr fixed_string(const char (&text)[N], std::index_sequence<I...>) : value{text[I]...} {}
};

}  // namespace trellis
