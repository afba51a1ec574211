// The job of an Azure run, as the workspace records it (backends/recorded_run.hpp): prepare_job
// creates or finds what the job refers to; run_in_azure submits it, tagged with the run's id, and
// follows it to its end with its Studio page as the run's link. Once it completed, its logs and
// outputs/ are in the run folder as a local run leaves them (metrics.jsonl, which job.sh has
// rank 0 put under outputs/, moved to the folder's top, where the run monitor indexes it), and
// its model version is registered in Azure.
#pragma once
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>

#include "trellis/backends/azure/job_watch.hpp"
#include "trellis/backends/azure/make_submission.hpp"
#include "trellis/backends/azure/register_model.hpp"
#include "trellis/backends/azure/submit.hpp"
#include "trellis/backends/azure/transfer_input.hpp"
#include "trellis/backends/local/log_stream.hpp"
#include "trellis/backends/local/rank_status.hpp"
#include "trellis/backends/local/supervise.hpp"
#include "trellis/backends/recorded_run.hpp"
#include "trellis/workspace/sha256.hpp"

namespace trellis::backends::azure {

/// The ids a job refers to: its environment, code and compute.
struct job_references {
  std::string environment, code, compute;
};

/// Creates or finds what the job refers to; the transfer_from source becomes its model input.
inline job_references prepare_job(arm_client& arm, const data_plane& plane, submission& s) {
  job_references ids{ensure_environment(arm, s.environment), ensure_code(arm, s.code, s.sources).id,
                     ensure_compute(arm, s.compute, s.job.nodes, plane.location)};
  if (s.transfer)
    s.job.inputs[transfer_model::input] = transfer_model::job_input(
        s.transfer->name, ensure_transfer_model(arm, *s.transfer).version);
  return ids;
}

namespace detail {
/// What a rank's log says went wrong ("[trellis] rank 1: error: <this>"), if it says.
inline std::optional<std::string> rank_error(const std::filesystem::path& log, std::size_t rank) {
  std::ifstream in(log);
  std::optional<std::string> found;
  for (std::string line; std::getline(in, line);)
    for (const auto& marker :
         {local::own_failure_prefix(rank), local::collective_failure_prefix(rank)})
      if (const auto at = line.find(marker); at != std::string::npos)
        found = line.substr(at + marker.size());
  return found;
}

inline job_ending failed_job(const job_watch& watch, const job_outcome& outcome,
                             const std::string& job, double seconds) {
  std::cerr << fmt::format("[trellis] azure: job {} ended {}{}\n", job, outcome.status,
                           outcome.error.empty() ? "" : ": " + outcome.error);
  job_ending e{workspace::run_status::failed,
               1,
               seconds,
               fmt::format("the Azure ML job ended {}{}", outcome.status,
                           outcome.error.empty() ? "" : ": " + outcome.error),
               {}};
  if (outcome.failing_rank) {
    const auto rank = *outcome.failing_rank;
    const auto log = watch.rank_log(rank);
    std::cerr << fmt::format("[trellis] rank {} failed; its log is {}\n", rank, log.string())
              << local::last_lines(log, 12);
    e.failing_rank = static_cast<std::int64_t>(rank);
    e.reason = fmt::format("rank {} failed: {}; its log is {}", rank,
                           rank_error(log, rank).value_or(outcome.error), log.string());
  }
  return e;
}
}  // namespace detail

inline job_ending run_in_azure(arm_client& arm, const data_plane& plane, submission& s,
                               const job_references& ids, const run_in_progress& run) {
  const auto started = std::chrono::steady_clock::now();
  const auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  s.job.tags["trellis.run"] = run.record.id;
  arm.put(s.job.relative(), s.job.body(ids.environment, ids.code, ids.compute),
          "job " + s.job.name);
  detail::say(fmt::format("job {} submitted: {} node(s) x {} process(es), {} on {}", s.job.name,
                          s.job.nodes, s.job.processes_per_node, plan::name_of(s.job.distribution),
                          s.compute.name));

  job_watch watch(arm, plane, s.job.name, run.folder.root);
  watch.on_link = [&](const std::string& url) {
    run.link(url);
    detail::say("studio: " + url);
  };
  const auto outcome = watch.follow();
  if (outcome.status == "Canceled") {
    const bool here = local::interrupted != 0;
    std::cerr << fmt::format("[trellis] azure: job {} canceled{}\n", s.job.name,
                             here ? "" : " in Azure ML");
    return {workspace::run_status::canceled,
            here ? 130 : 1,
            seconds(),
            here ? "interrupted (Ctrl-C): the Azure ML job was canceled"
                 : "the Azure ML job was canceled",
            {}};
  }
  if (outcome.status != "Completed")
    return detail::failed_job(watch, outcome, s.job.name, seconds());

  const auto files = watch.download_outputs();
  detail::say(
      fmt::format("{} output file(s) downloaded to {}", files, run.folder.outputs().string()));
  // job.sh: rank 0's metrics.jsonl travels under outputs/; a run folder keeps it at its top.
  const auto metrics = run.folder.outputs() / "metrics.jsonl";
  if (std::filesystem::exists(metrics))
    std::filesystem::rename(metrics, run.folder.root / "metrics.jsonl");
  else
    std::cerr << "[trellis] azure: the job's outputs/ has no metrics.jsonl\n";
  if (s.model) {
    auto m = *s.model;
    m.properties["trellis.run"] = run.record.id;
    if (const auto model_pt = run.folder.outputs() / "model.pt"; std::filesystem::exists(model_pt))
      m.properties["trellis.sha256"] = workspace::sha256_of_file(model_pt);
    if (s.transfer) m.properties["trellis.parent"] = s.transfer->local_ref;
    const auto registered = register_model_version(arm, m, s.job.name, s.job.model_output);
    detail::say(fmt::format("model {} registered in Azure ML ({})", registered.ref(),
                            model_registration::uri(s.job.name, s.job.model_output)));
  }
  return {workspace::run_status::completed, 0, seconds(), {}, {}};
}

}  // namespace trellis::backends::azure
