// How a string that json_writer wrote must read back (nlohmann-json): the same when it was
// UTF-8; otherwise still UTF-8, with U+FFFD where the bytes that are not were.
#pragma once
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace trellis::fuzz {

inline bool is_utf8(std::string_view s) {
  try {
    (void)nlohmann::json(std::string{s}).dump();  // nlohmann's strict UTF-8 check
    return true;
  } catch (const nlohmann::json::type_error&) {
    return false;
  }
}

template <class Json>
bool reads_back(const Json& got, std::string_view written) {
  if (!got.is_string()) return false;
  const auto& read = got.template get_ref<const std::string&>();
  if (is_utf8(written)) return read == written;
  return is_utf8(read) && read.find("\xEF\xBF\xBD") != std::string::npos;
}

}  // namespace trellis::fuzz
