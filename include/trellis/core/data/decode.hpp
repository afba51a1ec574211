// read_file and decode_image: a file's bytes, decoded as PNG or JPEG by its first bytes (not
// its name) to 8-bit pixels. No LibTorch: image.hpp turns the pixels into tensors.
#pragma once
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

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

}  // namespace trellis::core
