// The end of an Azure run on this machine: what it produced, gathered in one record, and the one
// function that keeps it in the local trellis workspace.
#pragma once
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "trellis/backends/azure/mlflow_client.hpp"
#include "trellis/backends/azure/register_model.hpp"

namespace trellis::backends::azure {

struct azure_run_record {
  std::string job, experiment, status, studio_url, job_id;
  std::filesystem::path run_dir;      ///< <workspace>/runs/<job>: logs/ and outputs/ downloaded
  std::vector<metric_point> metrics;  ///< every value the workers logged through MLflow
  std::optional<registered_model> model;
};

/// Records the run, its metrics and the registered model version in the local workspace, with a
/// link to the Azure job. This version keeps the record as run_dir/azure_run.json; connecting it
/// to the workspace database (runs, metric series, model registry) is this body's remaining step.
inline std::filesystem::path record_run_in_workspace(const azure_run_record& r) {
  nlohmann::json j = {
      {"job", r.job},       {"job_id", r.job_id},         {"experiment", r.experiment},
      {"status", r.status}, {"studio_url", r.studio_url}, {"metrics", nlohmann::json::array()}};
  for (const auto& m : r.metrics)
    j["metrics"].push_back(
        {{"key", m.key}, {"step", m.step}, {"value", m.value}, {"timestamp", m.timestamp_ms}});
  if (r.model)
    j["model"] = {{"name", r.model->name}, {"version", r.model->version}, {"id", r.model->id}};
  const auto file = r.run_dir / "azure_run.json";
  std::filesystem::create_directories(r.run_dir);
  std::ofstream(file) << j.dump(2) << "\n";
  return file;
}

}  // namespace trellis::backends::azure
