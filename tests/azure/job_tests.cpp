// The Azure backend end to end: the pipeline program azure_job as the driver against the
// emulator, whose job rebuilds the program from the uploaded snapshot with backends/azure/job.sh
// and runs it as 2 nodes x 1 process (Gloo) with Azure's environment contract. Also: --dry-run
// writes every body and a job.yml; 429/503 answers are retried; refused credentials and a
// missing workspace stop the driver with a clear message; a failing rank fails the run with its
// log; Ctrl-C cancels the job; no secret appears in any output, log or written file.
#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <regex>
#include <set>
#include <thread>
#include <trellis/backends/azure/endpoints.hpp>
#include <trellis/core/process/child.hpp>

#include "emulator.hpp"
#include "run_python.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using azure_test::emulator;
using azure_test::json;
using azure_test::read_file;
namespace process = trellis::core::process;

namespace {

/// The driver: azure_job run with the emulator's endpoints and credentials.
struct driver {
  fs::path dir;
  process::child proc;

  driver(const fs::path& d, std::map<std::string, std::string> env,
         std::vector<std::string> extra = {})
      : dir{d} {
    fs::create_directories(dir);
    std::vector<std::string> argv{TRELLIS_AZURE_JOB, "--workspace=" + (dir / "ws").string()};
    for (auto& f : emulator::workspace_flags()) argv.push_back(f);
    argv.insert(argv.end(), extra.begin(), extra.end());
    proc = process::child::spawn({argv, env, output_file(), false});
  }
  [[nodiscard]] fs::path output_file() const { return dir / "driver.log"; }
  [[nodiscard]] std::string output() const { return read_file(output_file()); }

  process::exit_status wait(std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (auto s = proc.try_wait()) return *s;
      std::this_thread::sleep_for(100ms);
    }
    proc.signal_group(SIGKILL);
    FAIL("the driver did not finish within " << limit.count() << " s:\n" << output());
    return {};
  }
};

/// Options for an emulator whose jobs share one build cache (job.sh builds the program once).
azure_test::emulator_options job_emulator() {
  azure_test::emulator_options o;
  o.job_env = {"TRELLIS_BUILD_CACHE=" + std::string{TRELLIS_AZURE_WORK_DIR} + "/job-build-cache"};
  return o;
}

std::string job_name_in(const std::string& output) {
  static const std::regex submitted(R"(job (\S+) submitted)");
  std::smatch m;
  return std::regex_search(output, m, submitted) ? m[1].str() : "";
}

/// Neither the client secret, the tokens nor the SAS signatures are in any output or file.
void check_no_secrets(const emulator& emu, const std::vector<fs::path>& places, const json& state) {
  std::vector<std::string> secrets{emu.options().client_secret, emu.options().token};
  for (const auto& [name, job] : state["jobs"].items()) secrets.push_back(job["mlflow_token"]);
  for (const auto& secret : secrets) {
    INFO("a secret of " << secret.size() << " characters");
    CHECK(azure_test::files_containing(places, secret).empty());
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
  const fs::path bodies = dir / "bodies";
  fs::create_directories(bodies);
  for (const auto& [file, resource] : std::map<std::string, std::string>{
           {"environment.json", "workspaces_environments_versions"},
           {"code.json", "workspaces_codes_versions"},
           {"compute.json", "workspaces_computes"},
           {"job.json", "workspaces_jobs"},
           {"model.json", "workspaces_models_versions"},
           {"code_start_pending_upload.json", "PendingUploadRequestDto"}})
    fs::copy_file(out / file, bodies / (resource + "__dry_run.json"));
  const auto run =
      azure_test::run_python({std::string{TRELLIS_AZURE_TEST_DIR} + "/validate_bodies.py",
                              std::string{TRELLIS_AZURE_TEST_DIR} + "/spec/2025-09-01",
                              std::string{trellis::backends::azure::api_version}, bodies.string(),
                              (dir / "result.json").string()},
                             dir / "validate.log");
  REQUIRE(run.status.success());
  const auto result = json::parse(read_file(dir / "result.json"));
  for (const auto& [file, errors] : result.items()) {
    INFO(file << ": " << errors.dump());
    CHECK(errors.empty());
  }
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
  }
  CHECK(emu.state()["jobs"].empty());
}

TEST_CASE(
    "a job runs to Completed through throttling; outputs, model version and MLflow metrics come "
    "back",
    "[e2e]") {
  const auto dir = azure_test::work_dir("e2e");
  emulator emu(dir / "emulator", job_emulator());
  emu.faults(
      {{"responses",
        {{{"method", "PUT"}, {"path", "/jobs/"}, {"status", 429}, {"times", 2}, {"retry_after", 1}},
         {{"method", "GET"}, {"path", "/computeOperationsStatus/"}, {"status", 503}, {"times", 1}},
         {{"method", "PUT"}, {"path", "^/blob/"}, {"status", 503}, {"times", 2}},
         {{"method", "PUT"}, {"path", "/codes/"}, {"drop", true}, {"times", 1}}}}});
  const auto start = std::chrono::steady_clock::now();
  driver d(dir, emu.driver_env());
  const auto status = d.wait(840s);
  const auto out = d.output();
  INFO(out << "\n--- emulator ---\n" << emu.log());
  REQUIRE(status.success());
  WARN("e2e driver time: "
       << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() << " s");

  const auto job = job_name_in(out);
  REQUIRE_FALSE(job.empty());
  const auto state = emu.state();
  CHECK(state["rejected"].empty());
  CHECK(state["jobs"][job]["status"] == "Completed");
  // Every injected fault was answered, then retried to success.
  std::map<std::string, std::vector<long>> answers;
  for (const auto& r : state["requests"]) {
    const std::string path = r["path"];
    for (const char* part : {"/jobs/", "/computeOperationsStatus/"})
      if (path.find(part) != std::string::npos) answers[part].push_back(r["status"]);
  }
  CHECK(answers["/jobs/"].size() >= 3);
  CHECK(std::vector<long>(answers["/jobs/"].begin(), answers["/jobs/"].begin() + 3) ==
        std::vector<long>{429, 429, 201});
  CHECK(answers["/computeOperationsStatus/"].front() == 503);
  CHECK_THAT(emu.log(), Catch::Contains("/codes/") && Catch::Contains("connection dropped"));

  // The emulated job built the program and ran 2 nodes x 1 process with Azure's variables.
  const fs::path run = dir / "ws" / "runs" / job;
  const auto rank0 = read_file(run / "logs" / "rank_0.log"),
             rank1 = read_file(run / "logs" / "rank_1.log");
  CHECK_THAT(rank0, Catch::Contains(
                        "[trellis] rank 0 of 2: local_rank 0 of 1, node 0, device cpu (gloo)"));
  CHECK_THAT(rank1, Catch::Contains(
                        "[trellis] rank 1 of 2: local_rank 0 of 1, node 1, device cpu (gloo)"));
  CHECK_THAT(out, Catch::Contains("[trellis] rank 0 of 2"));  // rank 0's log was streamed
  CHECK(fs::file_size(run / "outputs" / "model.pt") > 1000);

  // The model version points at the job's output: model.pt and its summary.json.
  const auto model = state["models"]["tiny-shapes-cnn:1"]["properties"];
  CHECK(model["modelUri"] == "azureml://jobs/" + job + "/outputs/model");
  CHECK(model["files"] == json::array({"model.pt", "summary.json"}));
  CHECK(model["tags"]["data"] == "tiny-shapes");
  CHECK(model["properties"]["trellis.input_shape"] == "1x28x28");
  CHECK_THAT(out, Catch::Contains("model tiny-shapes-cnn version 1 registered"));

  // Rank 0 logged its metrics through MLflow; the driver read them back into the run's record.
  std::set<std::string> keys;
  for (const auto& m : state["metrics"][job]) keys.insert(m["key"]);
  CHECK(keys.count("train_loss") == 1);
  CHECK(keys.count("val_accuracy") == 1);
  const auto record = json::parse(read_file(run / "azure_run.json"));
  CHECK(record["status"] == "Completed");
  CHECK(record["model"]["version"] == "1");
  CHECK(record["metrics"].size() == state["metrics"][job].size());
  CHECK_THAT(record["studio_url"].get<std::string>(),
             Catch::StartsWith("https://ml.azure.com/runs/" + job));

  check_no_secrets(emu, {d.output_file(), emu.log_file(), emu.state_dir(), dir / "ws"}, state);
}

TEST_CASE("a rank that fails in the job fails the run, with that rank's log", "[job_failure]") {
  const auto dir = azure_test::work_dir("job-failure");
  emulator emu(dir / "emulator", job_emulator());
  // Node 1's copy of the training images is damaged: rank 1 cannot decode them.
  emu.faults(
      {{"jobs", {{"corrupt", {{"node", 1}, {"path", "tests/azure/data/tiny-shapes/train"}}}}}});
  driver d(dir, emu.driver_env());
  const auto status = d.wait(840s);
  const auto out = d.output();
  INFO(out << "\n--- emulator ---\n" << emu.log());
  CHECK(status.code == 1);
  const auto job = job_name_in(out);
  const auto state = emu.state();
  CHECK(state["jobs"][job]["status"] == "Failed");
  CHECK_THAT(out, Catch::Contains("ended Failed: Execution failed") &&
                      Catch::Contains("[trellis] rank 1 failed; its log is"));
  CHECK_THAT(out,
             Catch::Contains("[trellis] rank 1: error:") && Catch::Contains("tiny-shapes/train/"));
  CHECK(state["models"].empty());
  CHECK(azure_test::processes_under(state["jobs"][job]["folder"].get<std::string>())
            .empty());  // rank 0 stopped too
  check_no_secrets(emu, {d.output_file(), emu.log_file(), emu.state_dir(), dir / "ws"}, state);
}

TEST_CASE("Ctrl-C cancels the job in Azure and the driver exits non-zero", "[interrupt]") {
  const auto dir = azure_test::work_dir("interrupt");
  emulator emu(dir / "emulator", job_emulator());
  driver d(dir, emu.driver_env());
  std::string job;
  for (int i = 0; i < 1200 && job.empty(); ++i) {
    std::this_thread::sleep_for(100ms);
    const auto state = emu.state();
    for (const auto& [name, j] : state["jobs"].items())
      if (j["status"] == "Running") job = name;
    if (d.proc.try_wait()) break;
  }
  INFO(d.output() << "\n--- emulator ---\n" << emu.log());
  REQUIRE_FALSE(job.empty());
  ::kill(d.proc.pid(), SIGINT);  // the driver only, as a terminal's Ctrl-C would reach it
  const auto status = d.wait(120s);
  CHECK(status.code == 130);
  CHECK_THAT(d.output(), Catch::Contains("interrupted: canceling job " + job) &&
                             Catch::Contains("job " + job + " canceled"));
  const auto state = emu.state();
  CHECK(state["jobs"][job]["status"] == "Canceled");
  CHECK(azure_test::processes_under(state["jobs"][job]["folder"].get<std::string>()).empty());
  bool cancel_sent = false;
  for (const auto& r : state["requests"])
    cancel_sent |=
        r["method"] == "POST" && r["path"].get<std::string>().ends_with("/jobs/" + job + "/cancel");
  CHECK(cancel_sent);
}
