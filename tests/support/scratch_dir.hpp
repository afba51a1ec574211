// A fresh, empty folder for one test under the test's working directory, kept after the test
// for a reader of a failure.
#pragma once
#include <filesystem>
#include <string>

namespace trellis::core::testing {

inline std::filesystem::path scratch_dir(const std::string& suite, const std::string& name) {
  auto dir = std::filesystem::current_path() / (suite + "_scratch") / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace trellis::core::testing
