// Runs a program to completion through trellis's own process layer (no shell, so arguments need
// no quoting) and returns how it ended with everything it wrote to stdout and stderr.
#pragma once
#include <string>

#include "text_file.hpp"
#include "trellis/core/process/child.hpp"

namespace trellis::core::testing {

struct captured_run {
  process::exit_status status;
  std::string output;  ///< stdout and stderr, interleaved as written
};

/// The request's log keeps the output on disk for a failing test's reader.
inline captured_run run_captured(const process::spawn_request& request) {
  auto status = process::child::spawn(request).wait();
  return {status, read_text(request.log)};
}

}  // namespace trellis::core::testing
