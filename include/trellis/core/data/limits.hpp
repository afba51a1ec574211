// What a corrupt header may make the data layer allocate: the caps on a decoded image and on
// an IDX array, and deflate's largest expansion, which bounds what compressed bytes can hold.
#pragma once
#include <cstddef>

namespace trellis::core::detail {

/// Larger decoded images are refused: no training set needs them, and a corrupt header can
/// claim 65535 x 65535 pixels.
inline constexpr std::size_t max_image_bytes = std::size_t{1} << 30;

/// IDX arrays above this many values are refused (a corrupt header can claim 2^128).
inline constexpr std::size_t max_idx_values = std::size_t{1} << 34;

/// Deflate (gzip, PNG) expands its input at most 1032-fold: a 258-byte match costs at least
/// two bits. A header that claims more data than its file could inflate to is corrupt.
inline constexpr std::size_t deflate_max_ratio = 1032;

/// Decoders grow their output by at most this much at a time, as data arrives, so a header
/// that promises more than the file holds costs no more memory than the file delivers.
inline constexpr std::size_t decode_chunk_bytes = std::size_t{1} << 22;

}  // namespace trellis::core::detail
