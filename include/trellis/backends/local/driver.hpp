// The local backend's driver: creates the run folder, starts the job's processes, streams rank
// 0's log to the terminal, supervises them, restarts the job from its last checkpoint up to
// max_restarts times, and reports the outcome.
#pragma once
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

#include "trellis/backends/local/launch.hpp"
#include "trellis/backends/local/log_stream.hpp"
#include "trellis/backends/local/run_folder.hpp"
#include "trellis/backends/local/supervise.hpp"
#include "trellis/plan/run_plan.hpp"
#include "trellis/plan/write_plan.hpp"

namespace trellis::backends::local {

struct job_report {
  int exit_code = 0;
  run_folder run;
  std::size_t restarts = 0;
  double seconds = 0;
};

inline job_report run_job(const plan::run_plan& plan, const cli::options& o, const std::string& experiment) {
  const auto start = std::chrono::steady_clock::now();
  catch_interrupts();
  job_report report{0, create_run_folder(o.workspace, experiment), 0, 0};
  const auto& run = report.run;
  std::cout << plan::plan_summary(plan) << "run " << run.id << " in " << run.root.string() << "\n" << std::flush;

  for (std::size_t restart = 0;; ++restart) {
    attempt a = launch(plan, run, o, restart);
    attempt_result result;
    {
      log_stream rank0(run.rank_log(0));
      result = supervise(a, run.logs());
    }
    if (result.result == outcome::completed) break;
    if (result.result == outcome::interrupted) {
      std::cerr << "[trellis] interrupted: every process of run " << run.id << " was stopped\n";
      report.exit_code = 130;
      break;
    }
    std::cerr << "[trellis] " << describe(*result.first_failure);
    if (restart >= plan.max_restarts) {
      std::cerr << "[trellis] run " << run.id << " failed";
      if (plan.max_restarts > 0) std::cerr << " after " << restart << " restart(s)";
      std::cerr << "\n";
      report.exit_code = 1;
      break;
    }
    std::cerr << "[trellis] restarting from the last checkpoint (restart " << restart + 1 << " of "
              << plan.max_restarts << ")\n";
    report.restarts = restart + 1;
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace trellis::backends::local
