// wait_any / stop_all: watch a set of children (the ranks of a job) until one ends, and stop
// the rest without leaving zombies or orphaned process groups behind.
#pragma once
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <span>
#include <thread>

#include "trellis/core/process/child.hpp"

namespace trellis::core::process {

/// Index of a child that has ended (reaped; its status() is set), or nullopt when none ended
/// before the timeout. Children that had already ended before the call are skipped. Polls only
/// these pids, so other children of this process (popen, ...) are left alone.
inline std::optional<std::size_t> wait_any(std::span<child> children,
                                           std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    bool any_running = false;
    for (std::size_t i = 0; i < children.size(); ++i) {
      if (!children[i].running()) continue;
      any_running = true;
      if (children[i].try_wait()) return i;
    }
    if (!any_running || std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

/// SIGTERM to every running child's group, SIGKILL to those still running after `grace`,
/// then reaps them all.
inline void stop_all(std::span<child> children, std::chrono::milliseconds grace) {
  auto any_running = [&] { return std::ranges::any_of(children, &child::running); };
  for (auto& c : children) c.signal_group(SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (any_running() && std::chrono::steady_clock::now() < deadline) {
    for (auto& c : children) c.try_wait();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (auto& c : children) {
    c.signal_group(SIGKILL);
    if (c.running()) c.wait();
  }
}

}  // namespace trellis::core::process
