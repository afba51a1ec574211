// pixels: an 8-bit image in interleaved (height, width, channel) order, as the PNG and JPEG
// decoders return it, and the size checks that stop a forged header from allocating gigabytes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "trellis/core/data/error.hpp"
#include "trellis/core/data/limits.hpp"

namespace trellis::core {

/// A decoded image: channels is 1 (gray) or 3 (RGB); data holds height * width * channels bytes.
struct pixels {
  std::size_t height = 0;
  std::size_t width = 0;
  std::size_t channels = 0;
  std::vector<std::uint8_t> data;
};

namespace detail {

/// "30000x30000 pixels", as errors name an image's claimed size.
inline std::string size_text(std::size_t width, std::size_t height) {
  return std::to_string(width) + "x" + std::to_string(height) + " pixels";
}

/// Throws data_error naming the file and the size its header claims when the image is empty
/// or would decode to more than max_image_bytes with `channels` bytes per pixel.
inline void check_image_size(const std::filesystem::path& file, std::size_t width,
                             std::size_t height, std::size_t channels) {
  if (width == 0 || height == 0)
    throw data_error{file, "image has no pixels (" + size_text(width, height) + ")"};
  if (width > max_image_bytes / height / channels)
    throw data_error{file, "image is " + size_text(width, height) +
                               ", more than the decoder accepts (256 MiB decoded)"};
}

/// Sizes `p` for an image after check_image_size.
inline void allocate(pixels& p, const std::filesystem::path& file, std::size_t width,
                     std::size_t height, std::size_t channels) {
  check_image_size(file, width, height, channels);
  p.width = width;
  p.height = height;
  p.channels = channels;
  p.data.resize(width * height * channels);
}

}  // namespace detail
}  // namespace trellis::core
