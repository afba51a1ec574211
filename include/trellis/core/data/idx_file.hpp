// read_idx: one unsigned-byte IDX file (MNIST, Fashion-MNIST), raw or gzip, checked against
// its header (magic, dimensions, size) before and while it is read. No LibTorch: idx.hpp turns
// the arrays into tensors.
#pragma once
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "trellis/core/data/error.hpp"
#include "trellis/core/data/limits.hpp"

namespace trellis::core {

/// An unsigned-byte IDX array: its dimensions and its values in row-major order.
struct idx_array {
  std::vector<std::size_t> dims;
  std::vector<std::uint8_t> values;
};

namespace detail {

/// A gzip or plain file read through zlib (gzread passes plain files through unchanged).
class gz_reader {
 public:
  explicit gz_reader(std::filesystem::path file)
      : file_{std::move(file)}, f_{(errno = 0, gzopen(file_.c_str(), "rb"))} {
    if (f_ == nullptr)
      throw data_error{file_, std::string{"cannot open: "} +
                                  (errno != 0 ? std::strerror(errno) : "out of memory")};
    gzbuffer(f_, 1 << 17);
  }
  gz_reader(const gz_reader&) = delete;
  gz_reader& operator=(const gz_reader&) = delete;
  ~gz_reader() { gzclose(f_); }

  /// Whether the file is read as it is (not gzip); known once reading has begun.
  [[nodiscard]] bool plain() { return gzdirect(f_) == 1; }

  /// Up to n bytes; fewer only where the data ends. data_error on damaged gzip data.
  std::size_t read(void* out, std::size_t n) {
    std::size_t total = 0;
    while (total < n) {
      const auto want = static_cast<unsigned>(std::min<std::size_t>(n - total, 1u << 30));
      const int got = gzread(f_, static_cast<char*>(out) + total, want);
      if (got < 0) fail();
      if (got == 0) break;
      total += static_cast<std::size_t>(got);
    }
    int status = Z_OK;
    if (total < n) gzerror(f_, &status);
    if (status != Z_OK) fail();  // Z_BUF_ERROR: the gzip stream stops early
    return total;
  }

 private:
  [[noreturn]] void fail() {
    int status = Z_OK;
    const char* message = gzerror(f_, &status);
    if (status == Z_ERRNO) message = std::strerror(errno);
    if (status == Z_BUF_ERROR) message = "truncated gzip data (unexpected end of file)";
    throw data_error{file_, std::string{"cannot read: "} + message};
  }

  std::filesystem::path file_;
  gzFile f_;
};

inline data_error idx_truncated(const std::filesystem::path& file,
                                const std::vector<std::size_t>& dims, std::size_t count,
                                std::size_t held) {
  return {file, "truncated: the header declares " + join(dims, "x") + " = " +
                    std::to_string(count) + " values, the file holds " + std::to_string(held)};
}

inline data_error idx_too_long(const std::filesystem::path& file,
                               const std::vector<std::size_t>& dims) {
  return {file, "longer than its header (" + join(dims, "x") + ") declares: trailing bytes"};
}

/// Compares the values an IDX header declares with what the file can hold, before anything is
/// allocated for them: exactly its remaining bytes when plain, at most deflate_max_ratio times
/// its size when gzip. True when the size proves the count (plain); false when only reading
/// can (gzip, or a file whose size cannot be read).
inline bool check_idx_size(const std::filesystem::path& file, gz_reader& in,
                           const std::vector<std::size_t>& dims, std::size_t header_bytes,
                           std::size_t count) {
  std::error_code error;
  const std::size_t size = std::filesystem::file_size(file, error);
  if (error || size < header_bytes) return false;
  if (in.plain()) {
    if (size - header_bytes < count) throw idx_truncated(file, dims, count, size - header_bytes);
    if (size - header_bytes > count) throw idx_too_long(file, dims);
    return true;
  }
  if (count / deflate_max_ratio >= size)
    throw data_error{file, "the header declares " + join(dims, "x") + " = " +
                               std::to_string(count) + " values, more than " +
                               std::to_string(size) +
                               " bytes of gzip can hold (deflate expands at most 1032-fold)"};
  return false;
}

}  // namespace detail

/// Reads one unsigned-byte IDX file, raw or gzip, and checks that its size matches its header.
inline idx_array read_idx(const std::filesystem::path& file) {
  detail::gz_reader in{file};
  unsigned char header[4];
  if (in.read(header, 4) < 4) throw data_error{file, "not an IDX file (shorter than 4 bytes)"};
  if (header[0] != 0 || header[1] != 0) {
    // snprintf, not {fmt}: the decoders are also built alone (tests/parsers, tests/fuzz),
    // linking only the codecs.
    char magic[16];
    std::snprintf(magic, sizeof magic, "0x%02X%02X%02X%02X", header[0], header[1], header[2],
                  header[3]);
    throw data_error{file, std::string{"not an IDX file (magic number "} + magic +
                               " does not start with two zero bytes)"};
  }
  if (header[2] != 0x08)
    throw data_error{file, "IDX element type " + std::to_string(header[2]) +
                               " is not supported (only unsigned bytes, type 8)"};
  if (header[3] == 0) throw data_error{file, "IDX header declares no dimensions"};

  idx_array a;
  std::size_t count = 1;
  for (std::size_t i = 0; i < header[3]; ++i) {
    unsigned char b[4];
    if (in.read(b, 4) < 4) throw data_error{file, "truncated IDX header"};
    const std::size_t d = std::size_t{b[0]} << 24 | std::size_t{b[1]} << 16 |
                          std::size_t{b[2]} << 8 | std::size_t{b[3]};
    if (d == 0) throw data_error{file, "IDX dimension " + std::to_string(i) + " is 0"};
    a.dims.push_back(d);
    if (count > detail::max_idx_values / d)
      throw data_error{
          file, "IDX header declares more than 2^34 values (" + detail::join(a.dims, "x") + "...)"};
    count *= d;
  }
  const bool proven = detail::check_idx_size(file, in, a.dims, 4 + 4 * a.dims.size(), count);
  // Otherwise grows in chunks, so a header that promises more than the data holds allocates
  // no more than the data delivers.
  const std::size_t chunk = proven ? count : detail::decode_chunk_bytes;
  while (a.values.size() < count) {
    const std::size_t have = a.values.size();
    const std::size_t want = std::min(count - have, chunk);
    detail::grow_to(a.values, have + want, count);
    const std::size_t got = in.read(a.values.data() + have, want);
    if (got < want) throw detail::idx_truncated(file, a.dims, count, have + got);
  }
  unsigned char extra;
  if (in.read(&extra, 1) != 0) throw detail::idx_too_long(file, a.dims);
  return a;
}

}  // namespace trellis::core
