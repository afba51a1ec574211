// decode_png: a PNG file's bytes to 8-bit gray or RGB pixels with libpng (palette and low bit
// depths expanded, 16 bits scaled, alpha dropped). libpng reports errors by longjmp, so only
// trivially destructible state lives in the frames it can jump out of.
#pragma once
#include <png.h>

#include <csetjmp>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <type_traits>
#include <vector>

#include "trellis/core/data/error.hpp"
#include "trellis/core/data/pixels.hpp"

namespace trellis::core {
namespace detail {

/// Everything libpng's callbacks touch; a longjmp over it skips no destructor.
struct png_session {
  png_structp png = nullptr;
  png_infop info = nullptr;
  const unsigned char* data = nullptr;
  std::size_t size = 0;
  std::size_t offset = 0;
  std::size_t stored_bits = 0;  // per pixel, as the file stores it (before expansion)
  char message[256] = {};
};
static_assert(std::is_trivially_destructible_v<png_session>);

inline void png_on_error(png_structp png, png_const_charp message) {
  auto* s = static_cast<png_session*>(png_get_error_ptr(png));
  std::snprintf(s->message, sizeof s->message, "%s", message);
  png_longjmp(png, 1);
}

// Warnings (an ancillary chunk's bad CRC, a known-wrong sRGB profile) leave pixels intact.
inline void png_on_warning(png_structp, png_const_charp) {}

inline void png_on_read(png_structp png, png_bytep out, std::size_t n) {
  auto* s = static_cast<png_session*>(png_get_io_ptr(png));
  if (n > s->size - s->offset) png_error(png, "truncated (unexpected end of file)");
  std::memcpy(out, s->data + s->offset, n);
  s->offset += n;
}

// The two functions that call setjmp keep no locals, so nothing is left clobbered either.
inline bool read_png_header(png_session& s) {
  if (setjmp(png_jmpbuf(s.png))) return false;
  png_set_read_fn(s.png, &s, png_on_read);
  png_read_info(s.png, s.info);
  s.stored_bits = std::size_t{png_get_bit_depth(s.png, s.info)} * png_get_channels(s.png, s.info);
  png_set_expand(s.png);  // palette to RGB, 1/2/4-bit gray to 8 bits
#ifdef PNG_READ_SCALE_16_TO_8_SUPPORTED
  png_set_scale_16(s.png);
#else
  png_set_strip_16(s.png);
#endif
  png_set_strip_alpha(s.png);  // as PIL's convert("RGB"): alpha is dropped, not composited
  png_set_interlace_handling(s.png);
  png_read_update_info(s.png, s.info);
  return true;
}

inline bool read_png_rows(png_session& s, png_bytepp rows) {
  if (setjmp(png_jmpbuf(s.png))) return false;
  png_read_image(s.png, rows);
  png_read_end(s.png, nullptr);
  return true;
}

}  // namespace detail

/// Decodes PNG bytes; any libpng error becomes a data_error naming `file`.
inline pixels decode_png(const unsigned char* data, std::size_t size,
                         const std::filesystem::path& file) {
  if (size < 8 || png_sig_cmp(data, 0, 8) != 0)
    throw data_error{file, "not a PNG file (bad signature)"};
  detail::png_session s;
  s.data = data;
  s.size = size;
  s.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &s, detail::png_on_error,
                                 detail::png_on_warning);
  struct release {  // lives in this frame, which no longjmp leaves
    detail::png_session& s;
    ~release() { png_destroy_read_struct(&s.png, &s.info, nullptr); }
  } guard{s};
  if (s.png != nullptr) s.info = png_create_info_struct(s.png);
  if (s.info == nullptr) throw data_error{file, "libpng could not start (out of memory)"};

  if (!detail::read_png_header(s)) throw data_error{file, std::string{"bad PNG: "} + s.message};
  const std::size_t channels = png_get_channels(s.png, s.info);
  if (png_get_bit_depth(s.png, s.info) != 8 || (channels != 1 && channels != 3))
    throw data_error{file, "unsupported PNG layout (" + std::to_string(channels) + " channels)"};
  const std::size_t width = png_get_image_width(s.png, s.info);
  const std::size_t height = png_get_image_height(s.png, s.info);
  detail::check_image_size(file, width, height, channels);
  // The rows as stored need at least width * height * stored_bits / 8 inflated bytes, which
  // the file's compressed bytes (fewer than `size`) must be able to hold.
  const std::size_t stored_bytes = width * height / 8 * s.stored_bits;
  if (stored_bytes / detail::deflate_max_ratio >= size)
    throw data_error{file, "bad PNG: header claims " + detail::size_text(width, height) + " (" +
                               std::to_string(stored_bytes) + " bytes of rows), more than " +
                               std::to_string(size) +
                               " bytes of PNG can hold (deflate expands at most 1032-fold)"};
  pixels p;
  detail::allocate(p, file, width, height, channels);
  if (png_get_rowbytes(s.png, s.info) != p.width * channels)
    throw data_error{file, "unexpected PNG row size"};
  std::vector<png_bytep> rows(p.height);
  for (std::size_t y = 0; y < p.height; ++y) rows[y] = p.data.data() + y * p.width * channels;
  if (!detail::read_png_rows(s, rows.data()))
    throw data_error{file, std::string{"bad PNG: "} + s.message};
  return p;
}

}  // namespace trellis::core
