// Fuzzes read_idx (core/data/idx_file.hpp) on a file's bytes. The first byte chooses how the
// rest is stored: odd, gzip-compressed here, so that mutations of the header and values reach
// the parser through valid gzip; even, as it is (raw IDX, or gzip bytes with their damage).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "gzip.hpp"
#include "memory_file.hpp"
#include "trellis/core/data/idx_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static trellis::fuzz::memory_file file;
  std::filesystem::path path;
  if (data[0] % 2 == 1) {
    const auto gz = trellis::test::gzip_bytes(data + 1, size - 1);
    path = file.write(gz.data(), gz.size());
  } else {
    path = file.write(data + 1, size - 1);
  }
  try {
    const auto a = trellis::core::read_idx(path);
    // A file read whole holds exactly the values its header declares.
    std::size_t count = 1;
    for (auto d : a.dims) count *= d;
    if (a.dims.empty() || a.values.size() != count) std::abort();
  } catch (const trellis::core::data_error& e) {
    if (e.path() != path) std::abort();  // errors name the file
  }
  return 0;
}
