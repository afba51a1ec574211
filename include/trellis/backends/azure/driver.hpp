// The Azure backend's driver: plans the submission, authenticates, creates or finds the
// environment, code, compute cluster, submits the command job, follows it to its end (Ctrl-C
// cancels it), then downloads its outputs, registers the model version and records the run.
#pragma once
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "trellis/backends/azure/arm_client.hpp"
#include "trellis/backends/azure/job_watch.hpp"
#include "trellis/backends/azure/make_submission.hpp"
#include "trellis/backends/azure/mlflow_client.hpp"
#include "trellis/backends/azure/record_run.hpp"
#include "trellis/backends/azure/register_model.hpp"
#include "trellis/backends/azure/submit.hpp"
#include "trellis/backends/local/log_stream.hpp"
#include "trellis/backends/local/supervise.hpp"
#include "trellis/plan/write_plan.hpp"

namespace trellis::backends::azure {

/// The secrets of this environment, which no uploaded file may contain.
inline std::vector<std::string> secrets_in_use(const std::string& token) {
  std::vector<std::string> secrets{token};
  for (const char* name : {"AZURE_CLIENT_SECRET", "AZURE_ACCESS_TOKEN"})
    if (const char* v = std::getenv(name); v && *v) secrets.emplace_back(v);
  return secrets;
}

/// Every metric the job's workers logged through MLflow, read back for the local record.
inline std::vector<metric_point> logged_metrics(const data_plane& plane, credential& cred,
                                                const std::string& job) {
  if (plane.mlflow_uri.empty()) return {};
  mlflow_client mlflow(plane.mlflow_uri, job, [&cred] { return cred.token(); });
  std::vector<metric_point> all;
  for (const auto& latest : mlflow.latest_metrics())
    for (auto& m : mlflow.history(latest.key)) all.push_back(std::move(m));
  return all;
}

template <class Pipeline>
int run_job(Pipeline& p, const plan::run_plan& plan, const cli::options& o) {
  local::catch_interrupts();
  http_client http;
  http.abort = [] { return local::interrupted != 0; };
  try {
    const auto ws = resolve_workspace(o);
    auto cred = credential::from_environment(http);
    const auto s = make_submission(p, plan, o, secrets_in_use(cred.token()));
    if (std::find(s.not_carried_out.begin(), s.not_carried_out.end(), "train.transfer_from") !=
        s.not_carried_out.end())
      throw std::runtime_error(
          "train: transfer_from on Azure needs the registered model as a job input, which this "
          "version does not "
          "send yet; rehearse with --backend=local");
    std::cout << plan::plan_summary(plan);
    detail::say(
        fmt::format("workspace {} (resource group {}, subscription {}), credentials from {}",
                    ws.name, ws.resource_group, ws.subscription, cred.source()));
    for (const auto& f : s.sources.withheld)
      std::cerr << fmt::format("[trellis] azure: {} is not uploaded: it contains a secret in use\n",
                               f);
    if (!s.not_carried_out.empty())
      detail::say(fmt::format("not carried out by the azure backend in this version: {}",
                              fmt::join(s.not_carried_out, ", ")));

    arm_client arm(http, cred, ws);
    const auto plane = discover(arm);
    const auto environment_id = ensure_environment(arm, s.environment);
    const auto code_id = ensure_code(arm, s.code, s.sources);
    const auto compute_id = ensure_compute(arm, s.compute, s.job.nodes, plane.location);
    if (local::interrupted) {
      std::cerr << "[trellis] azure: interrupted before the job was submitted; no job runs\n";
      return 130;
    }
    // From here on Ctrl-C does not abandon a request: the job is either created or not, and once
    // it is, an interrupt becomes its cancel (job_watch).
    http.abort = nullptr;
    arm.put(s.job.relative(), s.job.body(environment_id, code_id, compute_id), "job " + s.job.name);
    detail::say(fmt::format("job {} submitted: {} node(s) x {} process(es), {} on {}", s.job.name,
                            s.job.nodes, s.job.processes_per_node, s.job.distribution,
                            s.compute.name));

    const auto run_dir = std::filesystem::path{o.workspace} / "runs" / s.job.name;
    job_watch watch(arm, plane, s.job.name, run_dir);
    const auto outcome = watch.follow();
    if (!outcome.studio_url.empty()) detail::say("studio: " + outcome.studio_url);
    if (outcome.status == "Canceled" && local::interrupted) {
      std::cerr << fmt::format("[trellis] azure: job {} canceled\n", s.job.name);
      return 130;
    }
    if (outcome.status != "Completed") {
      std::cerr << fmt::format("[trellis] azure: job {} ended {}{}\n", s.job.name, outcome.status,
                               outcome.error.empty() ? "" : ": " + outcome.error);
      if (outcome.failing_rank) {
        const auto log = watch.rank_log(*outcome.failing_rank);
        std::cerr << fmt::format("[trellis] rank {} failed; its log is {}\n", *outcome.failing_rank,
                                 log.string())
                  << local::last_lines(log, 12);
      }
      return 1;
    }

    azure_run_record record{s.job.name,
                            s.job.experiment,
                            outcome.status,
                            outcome.studio_url,
                            arm.id(s.job.relative()),
                            run_dir,
                            {},
                            std::nullopt};
    const auto files = watch.download_outputs();
    detail::say(
        fmt::format("{} output file(s) downloaded to {}", files, (run_dir / "outputs").string()));
    if (s.model) {
      record.model = register_model_version(arm, *s.model, s.job.name, s.job.model_output);
      detail::say(
          fmt::format("model {} version {} registered", record.model->name, record.model->version));
    }
    record.metrics = logged_metrics(plane, cred, s.job.name);
    const auto file = record_run_in_workspace(record);
    detail::say(
        fmt::format("run recorded in {} ({} metric values)", file.string(), record.metrics.size()));
    return 0;
  } catch (const http_error& e) {
    if (!local::interrupted) throw;
    std::cerr << "[trellis] azure: interrupted: " << e.what() << "\n";
    return 130;
  }
}

}  // namespace trellis::backends::azure
