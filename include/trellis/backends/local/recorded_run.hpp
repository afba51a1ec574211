// run_recorded: a local run from start to end as the workspace records it
// (backends/recorded_run.hpp, which every backend shares): the job is this machine's ranks
// (driver.hpp), and its report becomes the run's ending: Completed, Failed (with the reason and the
// rank that failed) or Canceled (Ctrl-C or SIGTERM), which --resume continues from its last
// checkpoint.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "trellis/backends/local/driver.hpp"
#include "trellis/backends/recorded_run.hpp"
#include "trellis/cli/options.hpp"
#include "trellis/plan/run_plan.hpp"

namespace trellis::backends::local {

namespace detail {
/// "rank 1 failed: exited with code 1; its log is ..." without the log tail.
inline std::string failure_reason(const job_report& report) {
  if (!report.first_failure) return "the job failed";
  const auto& f = *report.first_failure;
  return fmt::format("{} failed: {}; its log is {}", f.who, f.how, f.log.string());
}

inline job_ending ending_of(const job_report& report) {
  job_ending e{workspace::run_status::completed, report.exit_code, report.seconds, {}, {}, true};
  if (report.interrupted) {
    e.status = workspace::run_status::canceled;
    e.reason = "interrupted (Ctrl-C or SIGTERM)";
  } else if (report.exit_code != 0) {
    e.status = workspace::run_status::failed;
    e.reason = failure_reason(report);
    if (report.first_failure && report.first_failure->rank)
      e.failing_rank = static_cast<std::int64_t>(*report.first_failure->rank);
  }
  return e;
}
}  // namespace detail

template <class Pipeline>
int run_recorded(const Pipeline& p, const plan::run_plan& plan, const cli::options& o) {
  return backends::run_recorded(p, plan, o, [&](const run_in_progress& run) {
    return detail::ending_of(run_job(plan, o, run.folder));
  });
}

}  // namespace trellis::backends::local
