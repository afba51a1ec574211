// capture_output: runs a small helper program (git, say) to completion and returns what it
// printed, or nullopt when it cannot start, fails, or outlives its time limit.
#pragma once
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "trellis/core/process/child.hpp"

namespace trellis::core::process {

inline std::optional<std::string> capture_output(
    const std::vector<std::string>& argv,
    std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  char name[] = "/tmp/trellis-capture-XXXXXX";
  const int fd = ::mkstemp(name);
  if (fd < 0) return std::nullopt;
  ::close(fd);
  const std::filesystem::path log{name};
  std::optional<std::string> out;
  try {
    auto c = child::spawn({argv, {}, log, false});
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!c.try_wait() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    if (c.status() && c.status()->success()) {
      std::ifstream in(log);
      std::ostringstream text;
      text << in.rdbuf();
      out = text.str();
    }
  } catch (const std::exception&) {  // not installed: the caller goes without
  }
  std::error_code ec;
  std::filesystem::remove(log, ec);
  return out;
}

}  // namespace trellis::core::process
