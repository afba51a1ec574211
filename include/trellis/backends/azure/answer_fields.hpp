// Reading fields of the JSON Azure answers with: a field may be missing, null or of another
// type than documented, and each of those reads as "absent" instead of throwing.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace trellis::backends::azure {

/// The string at `key`, or "" when it is missing, null or not a string.
inline std::string text_of(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return {};
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

/// The object (or array) at `key`, or an empty one.
inline nlohmann::json part_of(const nlohmann::json& object, const char* key, bool array = false) {
  if (object.is_object())
    if (const auto it = object.find(key);
        it != object.end() && (array ? it->is_array() : it->is_object()))
      return *it;
  return array ? nlohmann::json::array() : nlohmann::json::object();
}

/// The number at `key`, or `fallback`.
template <class T>
T number_of(const nlohmann::json& object, const char* key, T fallback) {
  if (!object.is_object()) return fallback;
  const auto it = object.find(key);
  return it != object.end() && it->is_number() ? it->get<T>() : fallback;
}

}  // namespace trellis::backends::azure
