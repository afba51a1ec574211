// read_image: a PNG or JPEG file (told apart by its first bytes, not its name) as a uint8
// [C, H, W] tensor with the channel count the pipeline asks for.
#pragma once
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <torch/types.h>

#include "trellis/core/data/error.hpp"
#include "trellis/core/data/jpeg.hpp"
#include "trellis/core/data/pixels.hpp"
#include "trellis/core/data/png.hpp"

namespace trellis::core {

/// A whole file's bytes; data_error naming it when it cannot be opened or read.
inline std::vector<unsigned char> read_file(const std::filesystem::path& file) {
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> f{std::fopen(file.c_str(), "rb"),
                                                          &std::fclose};
  if (!f) throw data_error{file, std::string{"cannot open: "} + std::strerror(errno)};
  std::vector<unsigned char> bytes;
  unsigned char chunk[1 << 16];
  for (std::size_t n; (n = std::fread(chunk, 1, sizeof chunk, f.get())) > 0;)
    bytes.insert(bytes.end(), chunk, chunk + n);
  if (std::ferror(f.get()))
    throw data_error{file, std::string{"cannot read: "} + std::strerror(errno)};
  return bytes;
}

/// Decodes by content: PNG signature, JPEG start-of-image marker, anything else an error.
inline pixels decode_image(const std::vector<unsigned char>& bytes,
                           const std::filesystem::path& file) {
  static constexpr unsigned char png_magic[] = {0x89, 'P', 'N', 'G'};
  if (bytes.size() >= 4 && std::memcmp(bytes.data(), png_magic, 4) == 0)
    return decode_png(bytes.data(), bytes.size(), file);
  if (bytes.size() >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF)
    return decode_jpeg(bytes.data(), bytes.size(), file);
  throw data_error{file, bytes.empty() ? "empty file" : "neither a PNG nor a JPEG image"};
}

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
