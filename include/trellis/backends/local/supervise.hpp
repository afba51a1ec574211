// Watches the processes of an attempt: the first one to fail stops all the others at once (so
// the job ends well within the collective timeout and leaves nothing behind), Ctrl-C stops them
// all, and the report names the rank that failed first (rank_status.hpp), how it ended and where
// its log is.
#pragma once
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

#include "trellis/backends/local/launch.hpp"
#include "trellis/backends/local/log_stream.hpp"
#include "trellis/backends/local/rank_status.hpp"
#include "trellis/core/process/wait_any.hpp"

namespace trellis::backends::local {

/// Set by SIGINT/SIGTERM; polled by the supervising loops.
inline std::atomic<int> interrupted{0};

inline void catch_interrupts() {
  struct sigaction sa {};
  sa.sa_handler = [](int sig) { interrupted = sig; };
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

struct failure {
  std::string who;  ///< "rank 3", or "node 1 launcher" / "mpirun" when no rank said anything
  std::string how;  ///< "killed by signal 9 (Killed)", "error: ..."
  std::filesystem::path log;
  std::optional<std::size_t> rank;  ///< the global rank that failed, when known
};

enum class outcome { completed, failed, interrupted };

struct attempt_result {
  outcome result = outcome::completed;
  std::optional<failure> first_failure;
};

namespace detail {
/// Child `i` has ended on its own: a rank that failed without a status of its own gets one, as
/// its starter saw it end (`at`).
inline void note_ended(const attempt& a, std::size_t i, std::int64_t at) {
  const auto& status = a.children[i].status();
  if (!status || status->success() || !a.ranks[i]) return;
  write_status_for(a.run_dir, {*a.ranks[i], "failed", status->describe(), false, at,
                               static_cast<int>(a.children[i].pid()), a.starter});
}

/// Reaps the children that have ended by now (on their own: nothing was stopped yet).
inline void note_all_ended(attempt& a) {
  for (std::size_t i = 0; i < a.children.size(); ++i)
    if (a.children[i].running() && a.children[i].try_wait()) note_ended(a, i, monotonic_ns());
}

inline std::string process_name(const attempt& a, std::size_t i) {
  if (a.ranks[i]) return "rank " + std::to_string(*a.ranks[i]);
  return a.what == attempt::kind::node_launchers ? "node " + std::to_string(i) + " launcher"
                                                 : "mpirun";
}

/// The rank that failed first, from the ranks' status files; else the process `ended`.
inline failure failure_of(const attempt& a, std::size_t ended) {
  if (const auto first = first_failure(a.run_dir, a.world_size))
    return {"rank " + std::to_string(first->rank), first->how,
            a.run_dir / "logs" / ("rank_" + std::to_string(first->rank) + ".log"), first->rank};
  return {process_name(a, ended), a.children[ended].status()->describe(), a.logs[ended],
          a.ranks[ended]};
}
}  // namespace detail

/// Waits until every process succeeded, one failed, or the user interrupted; never leaves a
/// process running.
inline attempt_result supervise(attempt& a) {
  using namespace std::chrono_literals;
  constexpr auto grace = 3s;
  std::size_t done = 0;
  while (done < a.children.size()) {
    if (interrupted) {
      detail::note_all_ended(a);
      core::process::stop_all(a.children, grace);
      return {outcome::interrupted, std::nullopt};
    }
    const auto ended = core::process::wait_any(a.children, 200ms);
    if (!ended) continue;
    if (a.children[*ended].status()->success()) {
      ++done;
      continue;
    }
    detail::note_ended(a, *ended, monotonic_ns());
    detail::note_all_ended(a);
    core::process::stop_all(a.children, grace);
    return {outcome::failed, detail::failure_of(a, *ended)};
  }
  return {};
}

inline std::string describe(const failure& f) {
  return f.who + " failed: " + f.how + "; its log is " + f.log.string() + "\n" +
         last_lines(f.log, 12);
}

}  // namespace trellis::backends::local
