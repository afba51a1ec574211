// What /proc tells about another process: whether it still runs (a zombie does not), and when it
// started, so that a recorded pid can be told apart from a later process that reuses it.
#pragma once
#include <signal.h>

#include <cerrno>
#include <cstdint>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace trellis::posix {

namespace detail {
/// The fields of /proc/<pid>/stat after the command name (which may hold spaces), or "".
inline std::string stat_fields(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const auto name_end = line.rfind(')');
  return name_end == std::string::npos || name_end + 2 > line.size() ? std::string{}
                                                                     : line.substr(name_end + 2);
}
}  // namespace detail

/// False once `pid` has exited: gone, or a zombie its parent has not reaped yet.
inline bool process_running(int pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
  const std::string fields = detail::stat_fields(pid);
  return fields.empty() || fields.front() != 'Z';  // the state letter comes first
}

/// The process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat), or
/// nullopt when there is no such process.
inline std::optional<std::uint64_t> process_start_ticks(int pid) {
  std::istringstream fields(detail::stat_fields(pid));
  std::string field;
  for (int i = 3; i <= 22; ++i)  // the remaining fields start at field 3, the state
    if (!(fields >> field)) return std::nullopt;
  return std::stoull(field);
}

}  // namespace trellis::posix
