// fixed_string: a string literal usable as a template argument, so names (models, clusters,
// environments, metrics) live in types and can be checked at compile time.
#pragma once
#include <cstddef>

#include "trellis/text.hpp"

namespace trellis {

template <std::size_t N>
struct fixed_string {
  char value[N]{};
  constexpr fixed_string(const char (&text)[N]) {  // NOLINT: implicit by design
    for (std::size_t i = 0; i < N; ++i) value[i] = text[i];
  }
  [[nodiscard]] constexpr text_view view() const { return {value, N - 1}; }
  [[nodiscard]] constexpr std::size_t size() const { return N - 1; }
};

}  // namespace trellis
