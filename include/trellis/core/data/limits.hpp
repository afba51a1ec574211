// What a corrupt header may make the data layer allocate: the caps on a decoded image and on
// an IDX array, deflate's largest expansion, which bounds what compressed bytes can hold, and
// grow_to, which lets a decoder's output grow only as its data arrives.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace trellis::core::detail {

/// Larger decoded images are refused: no training set needs them, and a corrupt header can
/// claim 65535 x 65535 pixels. 256 MiB is 89,478,485 RGB pixels, PIL's MAX_IMAGE_PIXELS (it
/// warns above that, and refuses twice as many as a decompression bomb). libjpeg's own
/// memory (a progressive file's coefficients) has the same cap.
inline constexpr std::size_t max_image_bytes = std::size_t{1} << 28;

/// IDX arrays above this many values are refused (a corrupt header can claim 2^128).
inline constexpr std::size_t max_idx_values = std::size_t{1} << 34;

/// Deflate (gzip, PNG) expands its input at most 1032-fold: a 258-byte match costs at least
/// two bits. A header that claims more data than its file could inflate to is corrupt.
inline constexpr std::size_t deflate_max_ratio = 1032;

/// Decoders grow their output by at most this much at a time, as data arrives, so a header
/// that promises more than the file holds costs no more memory than the file delivers.
inline constexpr std::size_t decode_chunk_bytes = std::size_t{1} << 22;

/// Resizes `v` to `size` on its way to `final_size`: capacity doubles, as vector's would, but
/// never beyond final_size, so a complete output holds no more than it needs.
inline void grow_to(std::vector<std::uint8_t>& v, std::size_t size, std::size_t final_size) {
  if (size > v.capacity()) v.reserve(std::min(final_size, std::max(size, 2 * v.capacity())));
  v.resize(size);
}

}  // namespace trellis::core::detail
