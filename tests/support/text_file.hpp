// The whole of a text file (a log, a script's output), for tests to search; empty when the file
// cannot be read, so the assertion that follows says what was missing.
#pragma once
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace trellis::core::testing {

inline std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace trellis::core::testing
