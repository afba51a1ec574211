// The Azure backend end to end: examples/transfer_learning.cpp as the driver against the emulator,
// started from a folder holding its tiny data/fashion-target, with a fashion-base in its local
// registry. The emulated job rebuilds the program from the uploaded snapshot with
// backends/azure/job.sh (once for these tests: a shared build cache) and runs it as 2 nodes x 1
// process (Gloo) with Azure's environment contract. The run is recorded in the local workspace;
// 429/503 answers are retried; a failing rank fails the run with its log; Ctrl-C cancels the job;
// no secret appears in any output, log or written file.
#include <fmt/format.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <thread>
#include <trellis/workspace/sha256.hpp>
#include <tuple>

#include "driver.hpp"
#include "emulator.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using azure_test::emulator;
using azure_test::json;
using azure_test::read_file;

namespace {

/// Options for an emulator whose jobs share one build cache (job.sh builds the program once).
azure_test::emulator_options job_emulator() {
  azure_test::emulator_options o;
  o.job_env = {"TRELLIS_BUILD_CACHE=" + std::string{TRELLIS_AZURE_WORK_DIR} + "/job-build-cache"};
  return o;
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

/// Every line of a metrics.jsonl, parsed.
std::vector<json> metric_lines(const fs::path& file) {
  std::vector<json> lines;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(json::parse(line));
  return lines;
}

}  // namespace

TEST_CASE(
    "examples/transfer_learning on Azure: from the local fashion-base, through throttling, to "
    "Completed; recorded, with its metrics and ONNX file, in the local workspace and in Azure",
    "[e2e]") {
  const auto dir = azure_test::work_dir("e2e");
  const auto base_sha256 = azure_test::register_fashion_base(dir / "ws");
  emulator emu(dir / "emulator", job_emulator());
  emu.faults(
      {{"responses",
        {{{"method", "PUT"}, {"path", "/jobs/"}, {"status", 429}, {"times", 2}, {"retry_after", 1}},
         {{"method", "GET"}, {"path", "/computeOperationsStatus/"}, {"status", 503}, {"times", 1}},
         {{"method", "PUT"}, {"path", "^/blob/"}, {"status", 503}, {"times", 2}},
         {{"method", "PUT"}, {"path", "/codes/"}, {"drop", true}, {"times", 1}}}}});
  const auto start = std::chrono::steady_clock::now();
  auto d = azure_test::transfer_driver(dir, emu.driver_env());
  const auto status = d.wait(840s);
  const auto out = d.output();
  INFO(out << "\n--- emulator ---\n" << emu.log());
  REQUIRE(status.success());
  WARN("e2e driver time: "
       << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() << " s");

  const auto job = azure_test::job_name_in(out);
  const auto run_id = azure_test::run_id_in(out);
  REQUIRE_FALSE(job.empty());
  REQUIRE(run_id == "transfer_1");
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

  // transfer_from: the registry's fashion-base:1 went to Azure as a model version (its model.pt
  // uploaded), the job mounted it, and rank 0 started from it after checking its SHA-256.
  const auto base = state["models"]["fashion-base:1"]["properties"];
  CHECK(base["properties"]["trellis.sha256"] == base_sha256);
  CHECK(base["properties"]["trellis.registry"] == "fashion-base:1");
  CHECK(base["files"] == json::array({"model.pt"}));
  CHECK(state["jobs"][job]["properties"]["inputs"]["transfer_from"]["uri"] ==
        "azureml:fashion-base:1");

  // The run folder in the local workspace holds what a local run's does.
  const fs::path run = d.workspace() / "runs" / run_id;
  const auto rank0 = read_file(run / "logs" / "rank_0.log"),
             rank1 = read_file(run / "logs" / "rank_1.log");
  CHECK_THAT(rank0, Catch::Contains(
                        "[trellis] rank 0 of 2: local_rank 0 of 1, node 0, device cpu (gloo)"));
  CHECK_THAT(rank1, Catch::Contains(
                        "[trellis] rank 1 of 2: local_rank 0 of 1, node 1, device cpu (gloo)"));
  CHECK_THAT(rank0, Catch::Contains("inputs/transfer_from/model.pt (SHA-256 checked)"));
  CHECK_THAT(out, Catch::Contains("[trellis] rank 0 of 2"));  // rank 0's log was streamed
  for (const char* f : {"model.pt", "summary.json", "model.onnx", "model.onnx.json"})
    CHECK(fs::is_regular_file(run / "outputs" / f));

  // Registered in Azure: the job's model output, with the ONNX file, and its lineage.
  const auto model = state["models"]["fashion-transfer:1"]["properties"];
  CHECK(model["modelUri"] == "azureml://jobs/" + job + "/outputs/model");
  CHECK(model["files"] ==
        json::array({"model.onnx", "model.onnx.json", "model.pt", "summary.json"}));
  CHECK(model["tags"]["task"] == "transfer");
  CHECK(model["properties"]["trellis.parent"] == "fashion-base:1");
  CHECK(model["properties"]["trellis.run"] == run_id);
  CHECK(model["properties"]["trellis.sha256"] ==
        trellis::workspace::sha256_of_file(run / "outputs" / "model.pt"));
  CHECK_THAT(out, Catch::Contains("model fashion-transfer:1 registered in Azure ML"));

  // ... and in the local registry, with the same card a local run gets.
  const auto card = azure_test::trellis_json(d.workspace(), {"models", "show", "fashion-transfer"});
  CHECK(card["run"] == run_id);
  CHECK(card["parent"] == json({{"name", "fashion-base"}, {"version", 1}}));
  CHECK(card["architecture"] ==
        json({{"model", "resnet18"}, {"classes", 5}, {"input_shape", {1, 28, 28}}}));
  CHECK(card["dataset_fingerprint"].get<std::string>().size() == 64);
  CHECK(card["metrics"].contains("test_accuracy"));
  CHECK(card["metrics"].contains("val_accuracy"));
  CHECK(card["details"]["onnx"]["opset"] == 17);
  std::map<std::string, std::string> files;
  for (const auto& f : card["files"]) files[f["path"]] = f["sha256"];
  CHECK(files["model.onnx"] == trellis::workspace::sha256_of_file(run / "outputs" / "model.onnx"));
  CHECK(files["model.pt"] == model["properties"]["trellis.sha256"]);

  // The run: Completed, backend azure, linked to the job's Studio page.
  const auto shown = azure_test::trellis_json(d.workspace(), {"runs", "show", run_id});
  CHECK(shown["status"] == "Completed");
  CHECK(shown["backend"] == "azure");
  CHECK_THAT(shown["external_link"].get<std::string>(),
             Catch::StartsWith("https://ml.azure.com/runs/" + job));
  CHECK(shown["models"] == json::array({"fashion-transfer:1"}));

  // Rank 0 logged every metric through MLflow while it trained, each per-rank value under a key
  // of its own; the local workspace indexed the same values, with their epochs and ranks.
  const auto lines = metric_lines(run / "metrics.jsonl");
  using point = std::tuple<std::string, std::int64_t, double>;
  std::multiset<point> logged, in_mlflow;
  std::set<std::int64_t> epochs;
  for (const auto& l : lines) {
    epochs.insert(l["epoch"].get<std::int64_t>());
    if (l["value"].is_null()) continue;
    const std::string name = l["name"];
    logged.emplace(name == "rank_images_per_s"
                       ? "images_per_s/rank_" + std::to_string(l["rank"].get<int>())
                       : name,
                   l["step"].get<std::int64_t>(), l["value"].get<double>());
  }
  for (const auto& m : state["metrics"][job])
    in_mlflow.emplace(m["key"].get<std::string>(), m["step"].get<std::int64_t>(),
                      m["value"].get<double>());
  CHECK(epochs.size() == 10);
  CHECK(logged.size() > 60);
  CHECK(in_mlflow == logged);
  std::set<std::string> keys;
  for (const auto& p : in_mlflow) keys.insert(std::get<0>(p));
  for (const char* key : {"train_loss", "val_accuracy", "test_accuracy", "images_per_s/rank_0",
                          "images_per_s/rank_1"})
    CHECK(keys.count(key) == 1);
  CHECK_THAT(rank0, Catch::Contains(fmt::format("[trellis] rank 0: {} metric values sent to MLflow "
                                                "run {}",
                                                logged.size(), job)));
  const auto indexed = azure_test::trellis_json(d.workspace(), {"runs", "metrics", run_id});
  CHECK(indexed.size() == lines.size());
  bool rank1_indexed = false;
  for (const auto& p : indexed)
    rank1_indexed |= p["name"] == "rank_images_per_s" && p["rank"] == 1 && p["epoch"] == 10;
  CHECK(rank1_indexed);

  check_no_secrets(emu, {d.output_file(), emu.log_file(), emu.state_dir(), d.workspace()}, state);
}

TEST_CASE("a rank that fails in the job fails the run, with that rank's log", "[job_failure]") {
  const auto dir = azure_test::work_dir("job-failure");
  azure_test::register_fashion_base(dir / "ws");
  emulator emu(dir / "emulator", job_emulator());
  // Node 1's copy of the training images is damaged: rank 1 cannot decode them.
  emu.faults(
      {{"jobs",
        {{"corrupt",
          {{"node", 1}, {"path", "tests/azure/data/transfer/data/fashion-target/train"}}}}}});
  auto d = azure_test::transfer_driver(dir, emu.driver_env());
  const auto status = d.wait(840s);
  const auto out = d.output();
  INFO(out << "\n--- emulator ---\n" << emu.log());
  CHECK(status.code == 1);
  const auto job = azure_test::job_name_in(out);
  const auto state = emu.state();
  CHECK(state["jobs"][job]["status"] == "Failed");
  CHECK_THAT(out, Catch::Contains("ended Failed: Execution failed") &&
                      Catch::Contains("[trellis] rank 1 failed; its log is"));
  CHECK_THAT(
      out, Catch::Contains("[trellis] rank 1: error:") && Catch::Contains("fashion-target/train/"));
  CHECK_FALSE(state["models"].contains("fashion-transfer:1"));
  CHECK(azure_test::processes_under(state["jobs"][job]["folder"].get<std::string>())
            .empty());  // rank 0 stopped too

  // The local workspace recorded it Failed, naming rank 1 and what it could not read.
  const auto shown =
      azure_test::trellis_json(d.workspace(), {"runs", "show", azure_test::run_id_in(out)});
  CHECK(shown["status"] == "Failed");
  CHECK(shown["backend"] == "azure");
  CHECK(shown["failing_rank"] == 1);
  CHECK_THAT(shown["failure_reason"].get<std::string>(),
             Catch::StartsWith("rank 1 failed: ") && Catch::Contains("fashion-target/train/"));
  CHECK(shown["models"].empty());
  check_no_secrets(emu, {d.output_file(), emu.log_file(), emu.state_dir(), d.workspace()}, state);
}

TEST_CASE("Ctrl-C cancels the job in Azure and the driver exits non-zero", "[interrupt]") {
  const auto dir = azure_test::work_dir("interrupt");
  azure_test::register_fashion_base(dir / "ws");
  emulator emu(dir / "emulator", job_emulator());
  auto d = azure_test::transfer_driver(dir, emu.driver_env());
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
  const auto shown =
      azure_test::trellis_json(d.workspace(), {"runs", "show", azure_test::run_id_in(d.output())});
  CHECK(shown["status"] == "Canceled");
  CHECK_THAT(shown["failure_reason"].get<std::string>(), Catch::Contains("interrupted (Ctrl-C)"));
}
