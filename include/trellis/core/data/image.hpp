// read_image: a PNG or JPEG file (told apart by its first bytes, not its name) as a uint8
// [C, H, W] tensor with the channel count the pipeline asks for.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>

#include <torch/types.h>

#include "trellis/core/data/decode.hpp"
#include "trellis/core/data/pixels.hpp"

namespace trellis::core {

/// Interleaved pixels to a [channels, H, W] tensor: gray is repeated to RGB, RGB is reduced
/// to luma with PIL's integer weights (ITU-R 601-2), so both match PIL's convert().
inline torch::Tensor to_chw(const pixels& p, std::size_t channels) {
  if (channels != 1 && channels != 3)
    throw std::invalid_argument{"to_chw: images have 1 or 3 channels, not " +
                                std::to_string(channels)};
  const auto h = static_cast<std::int64_t>(p.height), w = static_cast<std::int64_t>(p.width);
  torch::Tensor out = torch::empty({static_cast<std::int64_t>(channels), h, w}, torch::kUInt8);
  std::uint8_t* dst = out.data_ptr<std::uint8_t>();
  const std::uint8_t* src = p.data.data();
  const std::size_t plane = p.height * p.width;
  for (std::size_t i = 0; i < plane; ++i) {
    const std::uint8_t* px = src + i * p.channels;
    if (p.channels == channels) {
      for (std::size_t c = 0; c < channels; ++c) dst[c * plane + i] = px[c];
    } else if (p.channels == 1) {
      for (std::size_t c = 0; c < channels; ++c) dst[c * plane + i] = px[0];
    } else {
      dst[i] = static_cast<std::uint8_t>(
          (px[0] * 19595u + px[1] * 38470u + px[2] * 7471u + 0x8000u) >> 16);
    }
  }
  return out;
}

/// Reads and decodes one image as uint8 [channels, H, W]; channels is 1 or 3.
inline torch::Tensor read_image(const std::filesystem::path& file, std::size_t channels) {
  return to_chw(decode_image(read_file(file), file), channels);
}

}  // namespace trellis::core
