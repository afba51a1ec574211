// ONNX export parameters: opset<N> (7..17 with onnx 1.12, rule E019) and a dynamic batch axis.
#pragma once
#include <cstddef>

#include "trellis/params/param.hpp"

namespace trellis {

namespace kinds {
TRELLIS_KIND(opset);
TRELLIS_KIND(batch_axis);
}  // namespace kinds

template <std::size_t N>
struct opset {
  using kind = kinds::opset;
  static constexpr std::size_t value = N;
};

/// Export the batch dimension as a symbolic axis so any batch size runs.
struct dynamic_batch final {
  using kind = kinds::batch_axis;
  static constexpr bool value = true;
};
struct static_batch final {
  using kind = kinds::batch_axis;
  static constexpr bool value = false;
};

}  // namespace trellis
