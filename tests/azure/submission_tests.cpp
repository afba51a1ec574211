// What the Azure driver does before any job runs: --dry-run writes every request body (checked
// against Azure's schemas) and a job.yml, for a pipeline with a custom environment and for
// examples/transfer_learning.cpp with its transfer_from source, without any network; refused
// credentials and a missing workspace stop the driver with a clear message, before any run is
// recorded; a request refused once the run is recorded fails it, naming the request.
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <trellis/backends/azure/endpoints.hpp>

#include "driver.hpp"
#include "emulator.hpp"
#include "run_python.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using azure_test::driver;
using azure_test::emulator;
using azure_test::json;
using azure_test::read_file;

namespace {

/// Checks `files` ({file in `out`: its resource definition}) against the schemas the emulator uses.
void validate_bodies(const fs::path& dir, const fs::path& out,
                     const std::map<std::string, std::string>& files) {
  const fs::path bodies = dir / "bodies";
  fs::create_directories(bodies);
  for (const auto& [file, resource] : files)
    fs::copy_file(out / file,
                  bodies / (resource + "__" + fs::path{file}.stem().string() + ".json"));
  const auto run =
      azure_test::run_python({std::string{TRELLIS_AZURE_TEST_DIR} + "/validate_bodies.py",
                              std::string{TRELLIS_AZURE_TEST_DIR} + "/spec/2025-09-01",
                              std::string{trellis::backends::azure::api_version}, bodies.string(),
                              (dir / "result.json").string()},
                             dir / "validate.log");
  INFO(run.output);
  REQUIRE(run.status.success());
  const auto result = json::parse(read_file(dir / "result.json"));
  CHECK(result.size() == files.size());
  for (const auto& [file, errors] : result.items()) {
    INFO(file << ": " << errors.dump());
    CHECK(errors.empty());
  }
}

}  // namespace

TEST_CASE("--dry-run writes every request body and an equivalent job.yml, without any network",
          "[dry_run]") {
  const auto dir = azure_test::work_dir("dry-run");
  // Endpoints nobody listens on: a dry run must not need them.
  driver d(dir, {{"TRELLIS_AZURE_ARM_ENDPOINT", "http://127.0.0.1:9"}, {"AZURE_ACCESS_TOKEN", ""}},
           {"--dry-run"});
  const auto status = d.wait(60s);
  INFO(d.output());
  REQUIRE(status.success());
  const fs::path out = dir / "ws" / "dry-run" / "azure";
  for (const char* f : {"environment.json", "code_start_pending_upload.json", "code.json",
                        "compute.json", "job.json", "model.json", "requests.txt", "job.yml",
                        "compute.yml", "conda.yml", "snapshot.txt"})
    CHECK(fs::is_regular_file(out / f));

  const auto job = json::parse(read_file(out / "job.json"))["properties"];
  CHECK(job["distribution"] ==
        json({{"distributionType", "PyTorch"}, {"processCountPerInstance", 1}}));
  CHECK(job["resources"]["instanceCount"] == 2);
  CHECK(job["experimentName"] == "azure-e2e");
  CHECK(job["environmentVariables"]["LOCAL_WORLD_SIZE"] == "1");
  CHECK(job["computeId"] == emulator::workspace_path() + "/computes/cpu-cluster");
  CHECK_THAT(job["command"].get<std::string>(),
             Catch::StartsWith(
                 "bash backends/azure/job.sh --target azure_job --model-output ${{outputs.model}} "
                 "--data tests/azure/data/tiny-shapes --") &&
                 Catch::EndsWith("--set=dataset.root=tests/azure/data/tiny-shapes"));
  const auto yml = read_file(out / "job.yml");
  for (const char* line :
       {"$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json",
        "type: command", "distribution:\n  type: pytorch\n  process_count_per_instance: 1",
        "resources:\n  instance_count: 2", "compute: \"azureml:cpu-cluster\"",
        "experiment_name: \"azure-e2e\"", "conda_file: conda.yml", "limits:\n  timeout: 86400",
        "outputs:\n  model:\n    type: custom_model\n    mode: upload"})
    CHECK_THAT(yml, Catch::Contains(line));
  CHECK_THAT(
      yml, Catch::Contains("code: \"" + fs::weakly_canonical(TRELLIS_SOURCE_DIR).string() + "\""));
  const auto listing = read_file(out / "snapshot.txt");
  CHECK_THAT(listing, Catch::Contains("\tbackends/azure/job.sh\n") &&
                          Catch::Contains("\ttests/azure/data/tiny-shapes/val/c/3.png\n"));
  CHECK_THAT(listing, !Catch::Contains("\tbuild") && !Catch::Contains(".git/"));

  // The same bodies through the schemas the emulator checks.
  validate_bodies(dir, out,
                  {{"environment.json", "workspaces_environments_versions"},
                   {"code.json", "workspaces_codes_versions"},
                   {"compute.json", "workspaces_computes"},
                   {"job.json", "workspaces_jobs"},
                   {"model.json", "workspaces_models_versions"},
                   {"code_start_pending_upload.json", "PendingUploadRequestDto"}});
}

TEST_CASE("refused credentials and a missing workspace stop the driver with a clear message",
          "[auth]") {
  const auto dir = azure_test::work_dir("auth");
  emulator emu(dir / "emulator");
  {
    const std::string wrong = "wrong-" + emu.options().token;
    auto env = emu.driver_env();
    env["AZURE_ACCESS_TOKEN"] = wrong;
    driver d(dir / "token", env);
    const auto status = d.wait(120s);
    INFO(d.output());
    CHECK(status.code == 1);
    CHECK_THAT(d.output(),
               Catch::Contains("Azure refused the access token from AZURE_ACCESS_TOKEN (HTTP 401"));
    CHECK(azure_test::files_containing({d.output_file(), emu.log_file()}, wrong).empty());
  }
  {
    auto env = emu.driver_env();
    env["AZURE_CLIENT_SECRET"] = "wrong-" + emu.options().client_secret;
    driver d(dir / "secret", env);
    const auto status = d.wait(120s);
    INFO(d.output());
    CHECK(status.code == 1);
    CHECK_THAT(d.output(), Catch::Contains("refused client credentials (AZURE_CLIENT_ID " +
                                           std::string{emulator::client_id}));
    CHECK(
        azure_test::files_containing({d.output_file(), emu.log_file()}, env["AZURE_CLIENT_SECRET"])
            .empty());
  }
  {
    driver d(dir / "workspace", emu.driver_env(), {"--azure-workspace=elsewhere"});
    const auto status = d.wait(120s);
    INFO(d.output());
    CHECK(status.code == 1);
    CHECK_THAT(d.output(),
               Catch::Contains(
                   "Azure ML workspace 'elsewhere' was not found in resource group 'trellis-rg'"));
    CHECK(azure_test::run_id_in(d.output()).empty());  // no run was recorded
  }
  CHECK(emu.state()["jobs"].empty());
}

TEST_CASE(
    "--dry-run of examples/transfer_learning writes the bodies that carry its transfer_from "
    "source, and job.yml mounts it",
    "[dry_run]") {
  const auto dir = azure_test::work_dir("dry-run-transfer");
  const auto sha256 = azure_test::register_fashion_base(dir / "ws");
  auto d = azure_test::transfer_driver(
      dir, {{"TRELLIS_AZURE_ARM_ENDPOINT", "http://127.0.0.1:9"}, {"AZURE_ACCESS_TOKEN", ""}},
      {"--dry-run"});
  const auto status = d.wait(120s);
  INFO(d.output());
  REQUIRE(status.success());
  CHECK_THAT(d.output(), Catch::Contains("[ok] registry.transfer_from: fashion-base:1") &&
                             !Catch::Contains("not carried out"));
  const fs::path out = d.workspace() / "dry-run" / "azure";
  const std::string data = "tests/azure/data/transfer/data/fashion-target";

  const auto job = json::parse(read_file(out / "job.json"))["properties"];
  CHECK(job["inputs"]["transfer_from"]["jobInputType"] == "custom_model");
  CHECK(job["inputs"]["transfer_from"]["uri"] == "azureml:fashion-base:<version>");
  CHECK(job["inputs"]["transfer_from"]["mode"] == "ReadOnlyMount");
  CHECK(job["environmentVariables"]["TRELLIS_TRANSFER_SHA256"] == sha256);
  CHECK_THAT(job["command"].get<std::string>(),
             Catch::StartsWith("bash backends/azure/job.sh --target transfer_learning "
                               "--model-output ${{outputs.model}} --transfer-from "
                               "${{inputs.transfer_from}} --data " +
                               data + " --") &&
                 Catch::EndsWith("--set=dataset.root=" + data));
  CHECK(job["computeId"].get<std::string>().ends_with("/computes/gpu-cluster"));
  CHECK_THAT(job["environmentId"].get<std::string>(),
             Catch::StartsWith("azureml://registries/azureml/environments/"));

  const auto model = json::parse(read_file(out / "transfer_model.json"))["properties"];
  CHECK(model["modelType"] == "custom_model");
  CHECK(model["properties"]["trellis.sha256"] == sha256);
  CHECK(model["properties"]["trellis.registry"] == "fashion-base:1");
  const auto code = json::parse(read_file(out / "transfer_code.json"))["properties"];
  CHECK(code["codeUri"].get<std::string>().ends_with("/" + sha256.substr(0, 16)));
  CHECK(json::parse(read_file(out / "model.json"))["properties"]["properties"]["trellis.onnx"] ==
        "model.onnx");
  CHECK_THAT(read_file(out / "requests.txt"),
             Catch::Contains("POST codes/trellis-model-fashion-base/versions/" +
                             sha256.substr(0, 16) + "/startPendingUpload"));

  // az ml job create uploads the registry's file itself.
  const auto yml = read_file(out / "job.yml");
  CHECK_THAT(
      yml, Catch::Contains("inputs:\n  transfer_from:\n    type: custom_model\n    path: \"" +
                           (d.workspace() / "models" / "fashion-base" / "1" / "model.pt").string() +
                           "\"\n    mode: ro_mount\n"));
  CHECK_THAT(yml, Catch::Contains("TRELLIS_TRANSFER_SHA256: \"" + sha256 + "\""));

  validate_bodies(dir, out,
                  {{"job.json", "workspaces_jobs"},
                   {"transfer_code.json", "workspaces_codes_versions"},
                   {"transfer_model.json", "workspaces_models_versions"},
                   {"model.json", "workspaces_models_versions"},
                   {"compute.json", "workspaces_computes"}});
}

TEST_CASE("a request Azure refuses before the job is submitted fails the recorded run, naming it",
          "[refused]") {
  const auto dir = azure_test::work_dir("refused");
  emulator emu(dir / "emulator");
  emu.faults({{"responses",
               {{{"method", "PUT"}, {"path", "/computes/"}, {"status", 400}, {"times", 1}}}}});
  driver d(dir, emu.driver_env());
  const auto status = d.wait(120s);
  INFO(d.output());
  CHECK(status.code == 1);
  const std::string refusal =
      "HTTP 400 on PUT computes/cpu-cluster: Injected: injected by the test";
  CHECK_THAT(d.output(), Catch::Contains(refusal));
  const auto run = azure_test::run_id_in(d.output());
  REQUIRE(run == "azure-e2e_1");
  const auto shown = azure_test::trellis_json(d.workspace(), {"runs", "show", run});
  CHECK(shown["status"] == "Failed");
  CHECK(shown["backend"] == "azure");
  CHECK_THAT(shown["failure_reason"].get<std::string>(), Catch::Contains(refusal));
  CHECK(emu.state()["jobs"].empty());
}
