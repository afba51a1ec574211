// The Azure backend's driver: plans the submission, authenticates and finds the workspace, then,
// as a run of the local workspace (backends/recorded_run.hpp), creates or finds the environment,
// code, compute cluster and transfer_from source, submits the command job and follows it to its
// end (Ctrl-C cancels it), downloads its outputs and registers the model, in Azure and locally.
#pragma once
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "trellis/backends/azure/arm_client.hpp"
#include "trellis/backends/azure/job_run.hpp"
#include "trellis/backends/azure/make_submission.hpp"
#include "trellis/backends/local/supervise.hpp"
#include "trellis/backends/recorded_run.hpp"

namespace trellis::backends::azure {

/// The secrets of this environment, which no uploaded file may contain.
inline std::vector<std::string> secrets_in_use(const std::string& token) {
  std::vector<std::string> secrets{token};
  for (const char* name : {"AZURE_CLIENT_SECRET", "AZURE_ACCESS_TOKEN"})
    if (const char* v = std::getenv(name); v && *v) secrets.emplace_back(v);
  return secrets;
}

template <class Pipeline>
int run_job(Pipeline& p, const plan::run_plan& plan, const cli::options& o) {
  local::catch_interrupts();
  http_client http;
  http.abort = [] { return local::interrupted != 0; };
  try {
    const auto ws = resolve_workspace(o);
    auto cred = credential::from_environment(http);
    auto s = make_submission(p, plan, o, secrets_in_use(cred.token()));
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
    const auto plane = discover(arm);  // a wrong workspace stops here, before any run is recorded
    return run_recorded(p, plan, o, [&](const run_in_progress& run) -> job_ending {
      job_references ids;
      try {
        ids = prepare_job(arm, plane, s);
      } catch (const http_error& e) {
        if (!local::interrupted) throw;
        std::cerr << "[trellis] azure: interrupted: " << e.what() << "\n";
      }
      if (local::interrupted) {
        std::cerr << "[trellis] azure: interrupted before the job was submitted; no job runs\n";
        return {workspace::run_status::canceled,
                130,
                0,
                "interrupted (Ctrl-C) before the Azure ML job was submitted",
                {}};
      }
      // From here on Ctrl-C does not abandon a request: the job is either created or not, and
      // once it is, an interrupt becomes its cancel (job_watch).
      http.abort = nullptr;
      return run_in_azure(arm, plane, s, ids, run);
    });
  } catch (const http_error& e) {
    if (!local::interrupted) throw;
    std::cerr << "[trellis] azure: interrupted: " << e.what() << "\n";
    return 130;
  }
}

}  // namespace trellis::backends::azure
