// Files for the data tests: helpers to write bytes and IDX files (raw or gzip), in the scratch
// folders of temp_dir.hpp.
#pragma once
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "temp_dir.hpp"

namespace trellis::test {

inline void write_bytes(const std::filesystem::path& file,
                        const std::vector<unsigned char>& bytes) {
  std::filesystem::create_directories(file.parent_path());
  std::ofstream out{file, std::ios::binary};
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error{"cannot write " + file.string()};
}

/// An unsigned-byte IDX file: header (magic 0x0000080N, big-endian dims) then values.
inline std::vector<unsigned char> idx_bytes(const std::vector<std::uint32_t>& dims,
                                            const std::vector<unsigned char>& values) {
  std::vector<unsigned char> bytes{0, 0, 0x08, static_cast<unsigned char>(dims.size())};
  for (std::uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8)
      bytes.push_back(static_cast<unsigned char>(d >> shift));
  bytes.insert(bytes.end(), values.begin(), values.end());
  return bytes;
}

inline void write_gzip(const std::filesystem::path& file, const std::vector<unsigned char>& bytes) {
  gzFile f = gzopen(file.c_str(), "wb");
  if (f == nullptr) throw std::runtime_error{"cannot write " + file.string()};
  const int written = gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
  if (written != static_cast<int>(bytes.size())) throw std::runtime_error{"gzwrite failed"};
}

/// The whole uncompressed content of a gzip (or plain) file.
inline std::vector<unsigned char> read_gunzipped(const std::filesystem::path& file) {
  gzFile f = gzopen(file.c_str(), "rb");
  if (f == nullptr) throw std::runtime_error{"cannot open " + file.string()};
  std::vector<unsigned char> bytes;
  unsigned char chunk[1 << 16];
  for (int n; (n = gzread(f, chunk, sizeof chunk)) > 0;)
    bytes.insert(bytes.end(), chunk, chunk + n);
  gzclose(f);
  return bytes;
}

}  // namespace trellis::test
