// data_error: the one exception the data layer throws for a bad file or folder. It keeps the
// path apart so the loader can skip a corrupt image (skip_corrupt) and the trainer can report it.
// detail::join spells lists in its messages ("60000x28x28", "cat, dog").
#pragma once
#include <filesystem>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace trellis::core {

/// "<path>: <what is wrong>"; path() is the file or folder at fault.
class data_error : public std::runtime_error {
 public:
  data_error(std::filesystem::path path, const std::string& what)
      : std::runtime_error{path.string() + ": " + what}, path_{std::move(path)} {}
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

namespace detail {

/// Numbers or strings joined by `separator`. Appends only: g++ 12 -O3 warns (-Wrestrict,
/// a false positive) on `"x" + std::string` in a loop.
template <class Range>
std::string join(const Range& items, const char* separator) {
  std::string s;
  for (const auto& item : items) {
    if (!s.empty()) s += separator;
    if constexpr (std::is_arithmetic_v<std::decay_t<decltype(item)>>)
      s += std::to_string(item);
    else
      s += item;
  }
  return s;
}

}  // namespace detail
}  // namespace trellis::core
