// Dataset parameters: the dataset kind (image_folder, idx), classes<N> and input_shape<C,H,W>.
// Checked by E006 (static shape for export), E010 (required) and E029 (class count).
#pragma once
#include <cstddef>

#include "trellis/text.hpp"
#include "trellis/params/param.hpp"

namespace trellis {

namespace kinds {
TRELLIS_KIND(dataset_kind);
TRELLIS_KIND(classes);
TRELLIS_KIND(input_shape);
}  // namespace kinds

/// `train/` and `val/` folders with one sub-folder of PNG/JPEG images per class.
struct image_folder final {
  using kind = kinds::dataset_kind;
  static constexpr text_view name = "image_folder";
};
/// MNIST / Fashion-MNIST IDX files, raw or gzip-compressed.
struct idx final {
  using kind = kinds::dataset_kind;
  static constexpr text_view name = "idx";
};

template <std::size_t N>
struct classes {
  using kind = kinds::classes;
  static constexpr std::size_t value = N;
};

/// The tensor shape one sample has after transforms: channels, height, width.
template <std::size_t C, std::size_t H, std::size_t W>
struct input_shape {
  using kind = kinds::input_shape;
  static constexpr std::size_t channels = C;
  static constexpr std::size_t height = H;
  static constexpr std::size_t width = W;
};

}  // namespace trellis
