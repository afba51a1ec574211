// What one Azure submission creates or refers to — environment, code, compute cluster, command
// job, model versions (the one it registers, the one transfer_from starts from) — as plain
// values, and the request body each sends: ARM PUT bodies of Microsoft.MachineLearningServices
// at the pinned api-version, checked against Azure's published schemas by tests/azure. The same
// values give --dry-run's files and the real requests.
#pragma once
#include <fmt/format.h>

#include <cstddef>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "trellis/plan/run_plan.hpp"

namespace trellis::backends::azure {

using json = nlohmann::json;
using string_map = std::map<std::string, std::string>;

/// A curated environment from the `azureml` registry, or a custom image plus conda file that
/// becomes an environment version of this workspace.
struct environment_asset {
  bool curated = false;
  std::string name, version;  ///< custom: the version is a hash of image and conda file
  std::string image, conda_file;
  std::string
      registry_id;  ///< curated: azureml://registries/azureml/environments/<name>/labels/latest

  [[nodiscard]] std::string relative() const {
    return fmt::format("environments/{}/versions/{}", name, version);
  }
  [[nodiscard]] json body() const {
    return {
        {"properties",
         {{"description",
           "Built by trellis for a pipeline program: its image, and a conda file with what the job "
           "needs to build and run it"},
          {"image", image},
          {"condaFile", conda_file},
          {"osType", "Linux"},
          {"isAnonymous", false},
          {"tags", {{"trellis", "environment"}}}}}};
  }
};

/// Files uploaded once per content (the version is a hash of them): the program's sources, or
/// a transfer_from source's model.pt.
struct code_asset {
  std::string name, version;
  std::size_t files = 0, bytes = 0;
  std::string description =
      "Sources of a trellis pipeline program, built on the cluster by backends/azure/job.sh";

  [[nodiscard]] std::string relative() const {
    return fmt::format("codes/{}/versions/{}", name, version);
  }
  [[nodiscard]] static json start_upload_body(const std::string& upload_id) {
    return {{"pendingUploadId", upload_id}, {"pendingUploadType", "TemporaryBlobReference"}};
  }
  [[nodiscard]] json body(const std::string& code_uri) const {
    return {
        {"properties",
         {{"codeUri", code_uri},
          {"description", description},
          {"isAnonymous", false},
          {"properties",
           {{"trellis.files", std::to_string(files)}, {"trellis.bytes", std::to_string(bytes)}}}}}};
  }
};

/// An AmlCompute cluster of one VM size.
struct compute_cluster {
  std::string name, vm_size;
  bool low_priority = false;
  std::size_t min_nodes = 0, max_nodes = 1, idle_seconds = 1800;

  [[nodiscard]] std::string relative() const { return "computes/" + name; }
  /// `location` is the workspace's, which only a real submission knows (the body may go without).
  [[nodiscard]] json body(const std::optional<std::string>& location) const {
    json b = {{"properties",
               {{"computeType", "AmlCompute"},
                {"description", "Created by trellis"},
                {"properties",
                 {{"vmSize", vm_size},
                  {"vmPriority", low_priority ? "LowPriority" : "Dedicated"},
                  {"osType", "Linux"},
                  {"scaleSettings",
                   {{"minNodeCount", min_nodes},
                    {"maxNodeCount", max_nodes},
                    {"nodeIdleTimeBeforeScaleDown", fmt::format("PT{}S", idle_seconds)}}}}}}}};
    if (location) b["location"] = *location;
    return b;
  }
};

/// The command job: Azure starts `processes_per_node` copies of `command` on each of `nodes`
/// nodes with its PyTorch (or Mpi) environment contract.
struct command_job {
  std::string name, experiment, display_name, command;
  plan::framework_kind distribution = plan::framework_kind::pytorch;
  std::size_t nodes = 1, processes_per_node = 1, timeout_seconds = 86400;
  string_map environment_variables, tags;
  json inputs = json::object();
  std::string model_output = "model";  ///< the output rank 0 copies outputs/ into

  [[nodiscard]] std::string relative() const { return "jobs/" + name; }
  [[nodiscard]] json body(const std::string& environment_id, const std::string& code_id,
                          const std::string& compute_id) const {
    json properties = {
        {"jobType", "Command"},
        {"displayName", display_name},
        {"experimentName", experiment},
        {"description",
         "A trellis pipeline program, built from its sources and run in worker mode"},
        {"tags", tags},
        {"computeId", compute_id},
        {"codeId", code_id},
        {"environmentId", environment_id},
        {"command", command},
        {"distribution",
         {{"distributionType", plan::name_of(distribution)},
          {"processCountPerInstance", processes_per_node}}},
        {"resources", {{"instanceCount", nodes}}},
        {"environmentVariables", environment_variables},
        {"outputs",
         {{model_output,
           {{"jobOutputType", "custom_model"},
            {"mode", "Upload"},
            {"description",
             "outputs/ of rank 0 (model.pt, model.onnx with export_onnx), registered as the "
             "model version"}}}}},
        {"limits",
         {{"jobLimitsType", "Command"}, {"timeout", fmt::format("PT{}S", timeout_seconds)}}}};
    if (!inputs.empty()) properties["inputs"] = inputs;
    return {{"properties", properties}};
  }
};

/// The registered version a transfer_from starts from (the plan resolved it and checked its
/// SHA-256), which the job gets as a model input. The workspace API (2025-09-01) uploads files
/// only for code versions (startPendingUpload), so model.pt travels as a code version of its own,
/// one per content, and a model version of the same name points at that folder; a version whose
/// trellis.sha256 is already this file's is used as it is.
struct transfer_model {
  std::string name;       ///< the model's name, in the local registry and in Azure
  std::string local_ref;  ///< the local registry's "name:version"
  std::string sha256;     ///< of model.pt
  std::filesystem::path file;
  code_asset files;  ///< the code version that holds model.pt
  static constexpr const char* input = "transfer_from";

  /// The job's input: the version chosen at submission (`version`), mounted read-only.
  [[nodiscard]] static json job_input(const std::string& name, const std::string& version) {
    return {{"jobInputType", "custom_model"},
            {"uri", fmt::format("azureml:{}:{}", name, version)},
            {"mode", "ReadOnlyMount"},
            {"description", "the model transfer_from starts from (model.pt)"}};
  }
  [[nodiscard]] json body(const std::string& model_uri) const {
    return {{"properties",
             {{"modelType", "custom_model"},
              {"modelUri", model_uri},
              {"description", "Uploaded by trellis from its registry, for transfer_from"},
              {"tags", {{"trellis", "transfer_from"}}},
              {"properties",
               {{"trellis.sha256", sha256},
                {"trellis.registry", local_ref},
                {"trellis.format", "torch state_dict (model.pt)"}}},
              {"isAnonymous", false}}}};
  }
};

/// The model version registered from the job's model output.
struct model_registration {
  std::string name, description;
  string_map tags, properties;

  [[nodiscard]] static std::string relative(const std::string& name, const std::string& version) {
    return fmt::format("models/{}/versions/{}", name, version);
  }
  [[nodiscard]] static std::string uri(const std::string& job, const std::string& output) {
    return fmt::format("azureml://jobs/{}/outputs/{}", job, output);
  }
  [[nodiscard]] json body(const std::string& job, const std::string& output) const {
    json p = {{"modelType", "custom_model"},
              {"modelUri", uri(job, output)},
              {"jobName", job},
              {"tags", tags},
              {"properties", properties},
              {"isAnonymous", false}};
    if (!description.empty()) p["description"] = description;
    return {{"properties", p}};
  }
};

}  // namespace trellis::backends::azure
