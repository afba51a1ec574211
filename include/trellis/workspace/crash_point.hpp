// crash_point: a named point where a test can have this process killed with SIGKILL (set
// TRELLIS_TEST_CRASH_AT=<name>), to show that what it was writing stays consistent.
#pragma once
#include <signal.h>

#include <cstdlib>
#include <string_view>

namespace trellis::workspace {

inline void crash_point(std::string_view name) {
  static const char* const at = std::getenv("TRELLIS_TEST_CRASH_AT");
  if (at && name == at) ::raise(SIGKILL);
}

}  // namespace trellis::workspace
