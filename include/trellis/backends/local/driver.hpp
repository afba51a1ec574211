// The local backend's driver: starts the job's processes in a run folder the workspace created,
// streams rank 0's log to the terminal, supervises them, restarts the job from its last
// checkpoint up to max_restarts times, and reports the outcome (the caller records it).
#pragma once
#include <chrono>
#include <iostream>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "trellis/backends/local/launch.hpp"
#include "trellis/backends/local/log_stream.hpp"
#include "trellis/backends/local/supervise.hpp"
#include "trellis/plan/run_plan.hpp"
#include "trellis/workspace/run_folder.hpp"

namespace trellis::backends::local {

struct job_report {
  int exit_code = 0;
  bool interrupted = false;
  std::optional<failure> first_failure;  ///< what ended a failed run
  std::size_t restarts = 0;
  double seconds = 0;
};

inline job_report run_job(const plan::run_plan& plan, const cli::options& o,
                          const workspace::run_folder& run) {
  const auto start = std::chrono::steady_clock::now();
  catch_interrupts();
  job_report report;
  for (std::size_t restart = 0;; ++restart) {
    attempt a = launch(plan, run, o, restart);
    attempt_result result;
    {
      log_stream rank0(run.rank_log(0));
      result = supervise(a);
    }
    if (result.result == outcome::completed) {
      report.first_failure.reset();
      break;
    }
    if (result.result == outcome::interrupted) {
      std::cerr << fmt::format("[trellis] interrupted: every process of run {} was stopped\n",
                               run.id);
      report.exit_code = 130;
      report.interrupted = true;
      break;
    }
    report.first_failure = result.first_failure;
    std::cerr << "[trellis] " << describe(*result.first_failure);
    if (restart >= plan.max_restarts) {
      std::cerr << fmt::format("[trellis] run {} failed{}\n", run.id,
                               plan.max_restarts > 0
                                   ? fmt::format(" after {} restart(s)", restart)
                                   : std::string{});
      report.exit_code = 1;
      break;
    }
    std::cerr << fmt::format("[trellis] restarting from the last checkpoint (restart {} of {})\n",
                             restart + 1, plan.max_restarts);
    report.restarts = restart + 1;
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace trellis::backends::local
