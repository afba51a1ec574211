// decode_jpeg: a JPEG file's bytes to 8-bit gray or RGB pixels with libjpeg (CMYK converted).
// libjpeg reports errors by longjmp, so only trivially destructible state lives in the frames
// it can jump out of; corrupt-data warnings (a truncated file among them) count as errors.
#pragma once
#include <algorithm>
#include <csetjmp>
#include <cstddef>
#include <cstdint>
#include <cstdio>  // jpeglib.h needs FILE
#include <filesystem>
#include <string>
#include <type_traits>
#include <vector>

#include <jerror.h>
#include <jpeglib.h>

#include "trellis/core/data/error.hpp"
#include "trellis/core/data/pixels.hpp"

namespace trellis::core {
namespace detail {

/// Everything libjpeg touches; a longjmp over it skips no destructor.
struct jpeg_session {
  jpeg_decompress_struct info;
  jpeg_error_mgr errors;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};
static_assert(std::is_trivially_destructible_v<jpeg_session>);

[[noreturn]] inline void jpeg_on_error(j_common_ptr info) {
  auto* s = static_cast<jpeg_session*>(info->client_data);
  (*info->err->format_message)(info, s->message);
  std::longjmp(s->jump, 1);
}

// libjpeg only warns about a truncated or damaged file and fills the rest with gray; that
// would be a silently wrong sample, so such warnings are errors. Harmless ones are ignored.
inline void jpeg_on_message(j_common_ptr info, int level) {
  if (level >= 0) return;  // trace messages
  const int code = info->err->msg_code;
  if (code == JWRN_EXTRANEOUS_DATA || code == JWRN_JFIF_MAJOR || code == JWRN_ADOBE_XFORM) return;
  jpeg_on_error(info);
}

inline void jpeg_on_output(j_common_ptr) {}

// The header alone: the claimed size is checked before jpeg_start_decompress allocates.
inline bool read_jpeg_header(jpeg_session& s, const unsigned char* data, std::size_t size) {
  if (setjmp(s.jump)) return false;
  jpeg_create_decompress(&s.info);
  // A progressive file keeps every coefficient of the image; past this libjpeg stops with
  // JERR_NO_BACKING_STORE instead of allocating what a forged header claims.
  s.info.mem->max_memory_to_use = static_cast<long>(max_image_bytes);
  jpeg_mem_src(&s.info, data, static_cast<unsigned long>(size));
  jpeg_read_header(&s.info, TRUE);
  const bool cmyk = s.info.jpeg_color_space == JCS_CMYK || s.info.jpeg_color_space == JCS_YCCK;
  s.info.out_color_space = s.info.num_components == 1 ? JCS_GRAYSCALE : cmyk ? JCS_CMYK : JCS_RGB;
  jpeg_calc_output_dimensions(&s.info);
  return true;
}

inline bool start_jpeg(jpeg_session& s) {
  if (setjmp(s.jump)) return false;
  jpeg_start_decompress(&s.info);
  return true;
}

/// Decodes the rows up to `end` into `out`, whose first row is row 0; finishes after the last.
inline bool read_jpeg_rows(jpeg_session& s, unsigned char* out, std::size_t row_bytes,
                           JDIMENSION end) {
  if (setjmp(s.jump)) return false;
  while (s.info.output_scanline < end) {
    JSAMPROW row = out + s.info.output_scanline * row_bytes;
    jpeg_read_scanlines(&s.info, &row, 1);
  }
  if (s.info.output_scanline == s.info.output_height) jpeg_finish_decompress(&s.info);
  return true;
}

/// CMYK as Photoshop stores it (inverted when an Adobe marker is present) to RGB, in place.
inline void cmyk_to_rgb(pixels& p, std::vector<std::uint8_t>& cmyk, bool inverted) {
  for (std::size_t i = 0, n = p.width * p.height; i < n; ++i) {
    const std::uint8_t* c = &cmyk[i * 4];
    const unsigned k = inverted ? c[3] : 255u - c[3];
    for (std::size_t ch = 0; ch < 3; ++ch) {
      const unsigned v = inverted ? c[ch] : 255u - c[ch];
      p.data[i * 3 + ch] = static_cast<std::uint8_t>((v * k + 127) / 255);
    }
  }
}

}  // namespace detail

/// Decodes JPEG bytes; any libjpeg error becomes a data_error naming `file`.
inline pixels decode_jpeg(const unsigned char* data, std::size_t size,
                          const std::filesystem::path& file) {
  detail::jpeg_session s{};  // zeroed: destroying a never-created decompressor is then a no-op
  s.info.err = jpeg_std_error(&s.errors);
  s.errors.error_exit = detail::jpeg_on_error;
  s.errors.emit_message = detail::jpeg_on_message;
  s.errors.output_message = detail::jpeg_on_output;
  s.info.client_data = &s;
  struct release {  // lives in this frame, which no longjmp leaves
    detail::jpeg_session& s;
    ~release() { jpeg_destroy_decompress(&s.info); }
  } guard{s};

  if (!detail::read_jpeg_header(s, data, size))
    throw data_error{file, std::string{"bad JPEG: "} + s.message};
  const std::size_t width = s.info.output_width, height = s.info.output_height;
  const std::size_t channels = static_cast<std::size_t>(s.info.output_components);
  detail::check_image_size(file, width, height, channels);
  auto bad = [&](const std::string& where) {  // from here on, errors name the claimed size
    return data_error{file, std::string{"bad JPEG: "} + s.message + " (" + where + " of " +
                                detail::size_text(width, height) + ")"};
  };
  if (!detail::start_jpeg(s)) {
    if (s.errors.msg_code == JERR_NO_BACKING_STORE)
      throw data_error{file, "bad JPEG: decoding its " + detail::size_text(width, height) +
                                 " needs more than 256 MiB (progressive: every coefficient)"};
    throw bad("starting the decoding");
  }
  const bool cmyk = s.info.out_color_space == JCS_CMYK;
  pixels p;
  p.width = width;
  p.height = height;
  p.channels = cmyk ? 3 : channels;
  // Rows arrive in chunks and the output grows with them: a header that claims more rows than
  // the data holds fails at the first missing row, having allocated only for those before it.
  std::vector<std::uint8_t> cmyk_data;
  std::vector<std::uint8_t>& out = cmyk ? cmyk_data : p.data;
  const std::size_t row_bytes = width * channels;
  const std::size_t chunk_rows = std::max<std::size_t>(1, detail::decode_chunk_bytes / row_bytes);
  for (std::size_t done = 0; done < height;) {
    const std::size_t end = std::min(height, done + chunk_rows);
    detail::grow_to(out, end * row_bytes, height * row_bytes);
    if (!detail::read_jpeg_rows(s, out.data(), row_bytes, static_cast<JDIMENSION>(end)))
      throw bad("rows " + std::to_string(done) + " to " + std::to_string(end));
    done = end;
  }
  if (cmyk) {
    p.data.resize(width * height * 3);
    detail::cmyk_to_rgb(p, cmyk_data, s.info.saw_Adobe_marker != 0);
  }
  return p;
}

}  // namespace trellis::core
