// pixels: an 8-bit image in interleaved (height, width, channel) order, as the PNG and JPEG
// decoders return it, and the size cap that stops a forged header from allocating gigabytes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "trellis/core/data/error.hpp"

namespace trellis::core {

/// A decoded image: channels is 1 (gray) or 3 (RGB); data holds height * width * channels bytes.
struct pixels {
  std::size_t height = 0;
  std::size_t width = 0;
  std::size_t channels = 0;
  std::vector<std::uint8_t> data;
};

namespace detail {

/// Larger decoded images are refused: no training set needs them, and a corrupt header can
/// claim 65535 x 65535 pixels.
inline constexpr std::size_t max_image_bytes = std::size_t{1} << 30;

/// Sizes `p` for an image, or throws data_error naming the file when it is empty or too large.
inline void allocate(pixels& p, const std::filesystem::path& file, std::size_t width,
                     std::size_t height, std::size_t channels) {
  if (width == 0 || height == 0)
    throw data_error{
        file, "image has no pixels (" + std::to_string(width) + "x" + std::to_string(height) + ")"};
  if (width > max_image_bytes / height / channels)
    throw data_error{file, "image is " + std::to_string(width) + "x" + std::to_string(height) +
                               " pixels, more than the decoder accepts (1 GiB decoded)"};
  p.width = width;
  p.height = height;
  p.channels = channels;
  p.data.resize(width * height * channels);
}

}  // namespace detail
}  // namespace trellis::core
