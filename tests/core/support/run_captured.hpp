// Runs a program to completion through trellis's own process layer (no shell, so arguments need
// no quoting) and returns how it ended with everything it wrote to stdout and stderr.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "text_file.hpp"
#include "trellis/core/process/child.hpp"

namespace trellis::core::testing {

struct captured_run {
  process::exit_status status;
  std::string output;  ///< stdout and stderr, interleaved as written
};

/// `log` keeps the output on disk for a failing test's reader.
inline captured_run run_captured(const std::vector<std::string>& argv,
                                 const std::filesystem::path& log) {
  auto status = process::child::spawn({argv, {}, log}).wait();
  return {status, read_text(log)};
}

}  // namespace trellis::core::testing
