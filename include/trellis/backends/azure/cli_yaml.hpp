// The Azure ML CLI v2 files equivalent to a submission: job.yml (a command job), compute.yml
// (its AmlCompute cluster) and, for a custom environment, conda.yml, so that
// `az ml compute create -f compute.yml` and `az ml job create -f job.yml` run the same job
// without trellis (a transfer_from source is given as its file, which the CLI uploads). Strings
// are written as JSON strings, which are valid YAML.
#pragma once
#include <fmt/format.h>

#include <cctype>
#include <nlohmann/json.hpp>
#include <string>

#include "trellis/backends/azure/make_submission.hpp"

namespace trellis::backends::azure {

namespace detail {
inline std::string yaml_string(const std::string& s) { return nlohmann::json(s).dump(); }

/// CLI v2 spells modes and types in snake case: ReadOnlyMount is ro_mount.
inline std::string cli_input_mode(const std::string& rest) {
  if (rest == "ReadOnlyMount") return "ro_mount";
  if (rest == "ReadWriteMount") return "rw_mount";
  if (rest == "Download") return "download";
  if (rest == "Direct") return "direct";
  return rest;
}
}  // namespace detail

/// job.yml; `code` is the path of the sources as seen from the folder job.yml is written to.
inline std::string job_yaml(const submission& s, const std::string& code) {
  using detail::yaml_string;
  const auto& j = s.job;
  std::string y = "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n";
  y += "type: command\n";
  y += "name: " + yaml_string(j.name) + "\n";
  y += "display_name: " + yaml_string(j.display_name) + "\n";
  y += "experiment_name: " + yaml_string(j.experiment) + "\n";
  y += "code: " + yaml_string(code) + "\n";
  y += "command: " + yaml_string(j.command) + "\n";
  if (s.environment.curated) {
    y += "environment: " + yaml_string(s.environment.registry_id) + "\n";
  } else {
    y += "environment:\n  name: " + yaml_string(s.environment.name) +
         "\n  version: " + yaml_string(s.environment.version) +
         "\n  image: " + yaml_string(s.environment.image) + "\n  conda_file: conda.yml\n";
  }
  y += "compute: " + yaml_string("azureml:" + s.compute.name) + "\n";
  y += fmt::format("distribution:\n  type: {}\n  process_count_per_instance: {}\n",
                   j.distribution == plan::framework_kind::mpi ? "mpi" : "pytorch",
                   j.processes_per_node);
  y += fmt::format("resources:\n  instance_count: {}\n", j.nodes);
  y += "environment_variables:\n";
  for (const auto& [k, v] : j.environment_variables) y += "  " + k + ": " + yaml_string(v) + "\n";
  if (!j.inputs.empty()) {
    y += "inputs:\n";
    for (const auto& [name, input] : j.inputs.items()) {
      // transfer_from: the registry's file, which `az ml job create` uploads itself.
      const bool transfer = s.transfer && name == transfer_model::input;
      y += fmt::format(
          "  {}:\n    type: {}\n    path: {}\n    mode: {}\n", name,
          input.value("jobInputType", std::string{}),
          yaml_string(transfer ? s.transfer->file.string() : input.value("uri", std::string{})),
          detail::cli_input_mode(input.value("mode", std::string{})));
    }
  }
  y += fmt::format("outputs:\n  {}:\n    type: custom_model\n    mode: upload\n", j.model_output);
  y += fmt::format("limits:\n  timeout: {}\n", j.timeout_seconds);
  y += "tags:\n";
  for (const auto& [k, v] : j.tags) y += "  " + yaml_string(k) + ": " + yaml_string(v) + "\n";
  return y;
}

inline std::string compute_yaml(const compute_cluster& c) {
  return fmt::format(
      "$schema: https://azuremlschemas.azureedge.net/latest/amlCompute.schema.json\n"
      "name: {}\ntype: amlcompute\nsize: {}\nmin_instances: {}\nmax_instances: {}\n"
      "idle_time_before_scale_down: {}\ntier: {}\n",
      detail::yaml_string(c.name), detail::yaml_string(c.vm_size), c.min_nodes, c.max_nodes,
      c.idle_seconds, c.low_priority ? "low_priority" : "dedicated");
}

}  // namespace trellis::backends::azure
