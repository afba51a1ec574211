// write_png: 8-bit gray or RGB pixels to a PNG file, with libpng's simplified API (no longjmp to
// guard against); an error names the file and libpng's reason.
#pragma once
#include <png.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "trellis/core/data/error.hpp"

namespace trellis::core {

/// `pixels` holds height rows of width x channels bytes (channels 1 or 3).
inline void write_png(const std::filesystem::path& file, const std::uint8_t* pixels,
                      std::uint32_t width, std::uint32_t height, int channels) {
  if (channels != 1 && channels != 3)
    throw data_error{file,
                     "a PNG is written with 1 or 3 channels, not " + std::to_string(channels)};
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = width;
  image.height = height;
  image.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  if (!png_image_write_to_file(&image, file.c_str(), 0, pixels, 0, nullptr))
    throw data_error{file, std::string{"cannot write the PNG: "} + image.message};
}

}  // namespace trellis::core
