// crc32c: CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) and the masked form TFRecord
// files store, so a CRC of data that itself holds CRCs does not look like a CRC of nothing.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace trellis::core::tensorboard {

namespace detail {

inline constexpr std::array<std::uint32_t, 256> crc32c_table = [] {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t byte = 0; byte < 256; ++byte) {
    std::uint32_t crc = byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1u) ? 0x82F63B78u : 0u);
    table[byte] = crc;
  }
  return table;
}();

}  // namespace detail

constexpr std::uint32_t crc32c(std::string_view bytes) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (char c : bytes)
    crc = (crc >> 8) ^ detail::crc32c_table[(crc ^ static_cast<unsigned char>(c)) & 0xFFu];
  return crc ^ 0xFFFFFFFFu;
}

/// TFRecord's mask: rotate right by 15 bits, then add a constant.
constexpr std::uint32_t masked_crc32c(std::string_view bytes) {
  const std::uint32_t crc = crc32c(bytes);
  return ((crc >> 15) | (crc << 17)) + 0xA282EAD8u;
}

// The check value of CRC-32C (RFC 3720, B.4).
static_assert(crc32c("123456789") == 0xE3069283u);

}  // namespace trellis::core::tensorboard
