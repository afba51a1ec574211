// Fuzzes decode_image (core/data/decode.hpp): PNG and JPEG bytes through trellis's wrappers of
// libpng and libjpeg. Coverage guides the fuzzer through trellis's code only: the libraries are
// Debian's, uninstrumented.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "trellis/core/data/decode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<unsigned char> bytes(data, data + size);
  const std::filesystem::path file = "fuzz-input";
  try {
    const auto p = trellis::core::decode_image(bytes, file);
    if ((p.channels != 1 && p.channels != 3) || p.width == 0 || p.height == 0 ||
        p.data.size() != p.width * p.height * p.channels)
      std::abort();
  } catch (const trellis::core::data_error& e) {
    if (e.path() != file) std::abort();  // errors name the file
  }
  return 0;
}
