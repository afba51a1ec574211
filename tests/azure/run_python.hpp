// Runs a script with the Python that has jsonschema (Debian's /usr/bin/python3) through
// trellis's process layer, returning how it ended and everything it printed.
#pragma once
#include <filesystem>
#include <string>
#include <trellis/core/process/child.hpp>
#include <vector>

#include "emulator.hpp"

namespace azure_test {

struct python_run {
  trellis::core::process::exit_status status;
  std::string output;
};

inline python_run run_python(std::vector<std::string> args, const std::filesystem::path& log) {
  args.insert(args.begin(), {TRELLIS_AZURE_PYTHON, "-B"});
  const auto status = trellis::core::process::child::spawn({args, {}, log, false}).wait();
  return {status, read_file(log)};
}

}  // namespace azure_test
