// Watches the processes of an attempt: the first one to fail stops all the others at once (so
// the job ends well within the collective timeout and leaves nothing behind), Ctrl-C stops them
// all, and the report names the failing rank, how it ended and where its log is.
#pragma once
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <span>
#include <string>

#include "trellis/backends/local/launch.hpp"
#include "trellis/backends/local/log_stream.hpp"
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
  std::string who;  ///< "rank 3" or "node 1 launcher"
  std::string how;  ///< "killed by signal 9 (Killed)"
  std::filesystem::path log;
  std::size_t process = 0;  ///< the failed process's index among the attempt's children
  std::optional<std::size_t> rank;  ///< the global rank that failed, when known
};

enum class outcome { completed, failed, interrupted };

struct attempt_result {
  outcome result = outcome::completed;
  std::optional<failure> first_failure;
};

namespace detail {
/// A launcher (node launcher or mpirun) names the rank that failed in its log; find it there.
inline std::optional<failure> rank_named_in(const std::filesystem::path& launcher_log,
                                            const std::filesystem::path& logs) {
  static const std::regex trellis_line(R"(\[trellis\] rank (\d+) failed: (.*))");
  static const std::regex mpirun_line(R"(process rank (\d+) with PID \d+ on node \S+ exited on signal (\d+))");
  std::ifstream in(launcher_log);
  std::smatch m;
  for (std::string line; std::getline(in, line);) {
    if (std::regex_search(line, m, trellis_line))
      return failure{"rank " + m[1].str(), m[2].str(), logs / ("rank_" + m[1].str() + ".log"), 0,
                     std::stoul(m[1].str())};
    if (std::regex_search(line, m, mpirun_line))
      return failure{"rank " + m[1].str(), core::process::exit_status{0, std::stoi(m[2].str())}.describe(),
                     logs / ("rank_" + m[1].str() + ".log"), 0, std::stoul(m[1].str())};
  }
  return std::nullopt;
}
}  // namespace detail

/// Waits until every process succeeded, one failed, or the user interrupted; never leaves a
/// process running.
inline attempt_result supervise(attempt& a, const std::filesystem::path& logs) {
  using namespace std::chrono_literals;
  constexpr auto grace = 3s;
  std::size_t done = 0;
  while (done < a.children.size()) {
    if (interrupted) {
      core::process::stop_all(a.children, grace);
      return {outcome::interrupted, std::nullopt};
    }
    const auto ended = core::process::wait_any(a.children, 200ms);
    if (!ended) continue;
    const auto status = *a.children[*ended].status();
    if (status.success()) {
      ++done;
      continue;
    }
    core::process::stop_all(a.children, grace);
    failure f{"rank " + std::to_string(*ended), status.describe(), a.logs[*ended], *ended, *ended};
    if (a.what != attempt::kind::ranks) f.rank.reset();
    if (a.what == attempt::kind::node_launchers) f.who = "node " + std::to_string(*ended) + " launcher";
    if (a.what == attempt::kind::mpirun) f.who = "mpirun";
    if (a.what != attempt::kind::ranks)
      if (auto named = detail::rank_named_in(a.logs[*ended], logs)) {
        named->process = *ended;
        f = *named;
      }
    return {outcome::failed, f};
  }
  return {};
}

inline std::string describe(const failure& f) {
  return f.who + " failed: " + f.how + "; its log is " + f.log.string() + "\n" + last_lines(f.log, 12);
}

}  // namespace trellis::backends::local
