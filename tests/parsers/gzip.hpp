// gzip_bytes: bytes gzip-compressed in memory with zlib, for tests and fuzz targets that feed
// the IDX reader gzip files.
#pragma once
#include <zlib.h>

#include <cstddef>
#include <stdexcept>
#include <vector>

namespace trellis::test {

inline std::vector<unsigned char> gzip_bytes(const unsigned char* data, std::size_t size) {
  z_stream z{};
  if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)  // 16: gzip
    throw std::runtime_error{"deflateInit2 failed"};
  std::vector<unsigned char> out(deflateBound(&z, size));
  z.next_in = const_cast<unsigned char*>(data);
  z.avail_in = static_cast<uInt>(size);
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  const int status = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (status != Z_STREAM_END) throw std::runtime_error{"deflate failed"};
  return out;
}

}  // namespace trellis::test
