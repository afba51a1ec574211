// die_with_driver: a process the driver started (a rank, a node launcher, a rank under mpirun)
// ends when the driver ends, even by SIGKILL, so no rank trains on as an orphan. posix_spawn
// cannot set a parent-death signal, so the child sets it first thing (PR_SET_PDEATHSIG), then
// checks that its parent is still the one that started it (which may have died before the call).
// Where the parent is not the driver's (mpirun's), a thread watches the driver's pid. A rank that
// torchrun or mpirun started with no driver of ours follows that launcher instead: once it is
// reparented, its launcher is gone (torchrun, killed by SIGKILL, leaves its workers running).
#pragma once
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

#include "trellis/posix/process_info.hpp"

namespace trellis::posix {

/// The variables a starting process gives its children: TRELLIS_PARENT_PID names it (the
/// children check it), TRELLIS_DRIVER_PID and TRELLIS_DRIVER_START name the driver (its start
/// time, as pids are reused).
inline constexpr const char* parent_pid_variable = "TRELLIS_PARENT_PID";
inline constexpr const char* driver_pid_variable = "TRELLIS_DRIVER_PID";
inline constexpr const char* driver_start_variable = "TRELLIS_DRIVER_START";

namespace detail {
inline std::optional<long long> number_variable(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  char* end = nullptr;
  const long long n = std::strtoll(v, &end, 10);
  return *end == '\0' ? std::optional{n} : std::nullopt;
}

/// Whether the process `pid` that started at `start` (clock ticks since boot) still runs.
inline bool same_process_running(int pid, std::optional<long long> start) {
  if (!process_running(pid)) return false;
  if (!start || *start == 0) return true;
  const auto now = process_start_ticks(pid);
  return now && static_cast<long long>(*now) == *start;
}
/// torchrun's agent and mpirun (or its orted) stay the parent of the ranks they start.
inline bool started_by_launcher() {
  return std::getenv("TORCHELASTIC_RUN_ID") != nullptr ||
         std::getenv("OMPI_COMM_WORLD_RANK") != nullptr;
}

inline void follow_parent(std::chrono::milliseconds poll) {
  const pid_t parent = ::getppid();
  if (parent == 1) return;  // already an orphan when it started: nothing to follow
  std::thread([parent, poll] {
    while (::getppid() == parent) std::this_thread::sleep_for(poll);
    ::raise(SIGKILL);
  }).detach();
}
}  // namespace detail

/// Call first thing in a process the driver started. The parent-death signal follows the
/// thread that spawned this process: the driver and launchers spawn from their main thread.
inline void die_with_driver(std::chrono::milliseconds poll = std::chrono::milliseconds(200)) {
  if (const auto parent = detail::number_variable(parent_pid_variable)) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != static_cast<pid_t>(*parent)) ::raise(SIGKILL);  // it died before the call
  }
  const auto driver = detail::number_variable(driver_pid_variable);
  if (!driver) {
    if (detail::started_by_launcher()) detail::follow_parent(poll);
    return;
  }
  const auto start = detail::number_variable(driver_start_variable);
  if (!detail::same_process_running(static_cast<int>(*driver), start)) ::raise(SIGKILL);
  std::thread([pid = static_cast<int>(*driver), start, poll] {
    while (detail::same_process_running(pid, start)) std::this_thread::sleep_for(poll);
    ::raise(SIGKILL);
  }).detach();
}

/// This process as a driver: the variables its children's die_with_driver() reads.
inline std::string own_start_ticks() {
  return std::to_string(process_start_ticks(static_cast<int>(::getpid())).value_or(0));
}

}  // namespace trellis::posix
