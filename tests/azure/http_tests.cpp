// The HTTP client, the credentials and the MLflow client against the emulator on loopback:
// 429 and 503 answers and a dropped connection are retried (Retry-After honoured) until they
// succeed, the three credential sources work in their order, a refused token or secret gives a
// message that names its source and never the secret, and metrics logged through MLflow read back;
// rank 0's forwarder sends the trainer's values while it goes on, per-rank values apart.
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>
#include <trellis/backends/azure/arm_client.hpp>
#include <trellis/backends/azure/credentials.hpp>
#include <trellis/backends/azure/http.hpp>
#include <trellis/backends/azure/mlflow_client.hpp>
#include <trellis/backends/azure/mlflow_forwarder.hpp>

#include "emulator.hpp"

namespace fs = std::filesystem;
namespace az = trellis::backends::azure;
using azure_test::emulator;
using azure_test::json;

namespace {
/// Sets environment variables for one test and restores them after.
class scoped_env {
 public:
  explicit scoped_env(std::map<std::string, std::string> values) {
    for (const auto& [k, v] : values) {
      const char* old = std::getenv(k.c_str());
      saved_.emplace_back(k, old ? std::optional<std::string>{old} : std::nullopt);
      if (v.empty())
        ::unsetenv(k.c_str());
      else
        ::setenv(k.c_str(), v.c_str(), 1);
    }
  }
  ~scoped_env() {
    for (const auto& [k, v] : saved_)
      v ? (void)::setenv(k.c_str(), v->c_str(), 1) : (void)::unsetenv(k.c_str());
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

az::workspace_ref emulated_workspace() {
  return {emulator::subscription, emulator::resource_group, emulator::workspace, {}};
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// A run of the emulator's MLflow, as a job's (runs/create with its token).
std::string new_mlflow_run(const emulator& emu) {
  az::http_client http;
  const auto run = http.send(
      {"POST",
       emu.base() + "/mlflow/v1.0" + emulator::workspace_path() + "/api/2.0/mlflow/runs/create",
       {"Authorization: Bearer " + emu.options().token, "Content-Type: application/json"},
       "{}"});
  REQUIRE(run.status == 200);
  return json::parse(run.body)["run"]["info"]["run_id"];
}
}  // namespace

TEST_CASE("429 and 503 answers and dropped connections are retried until they succeed", "[http]") {
  emulator emu(azure_test::work_dir("http-retry"));
  scoped_env env(emu.driver_env());
  az::http_client http({6, std::chrono::milliseconds{100}, std::chrono::milliseconds{2000}});
  auto cred = az::credential::from_environment(http);
  az::arm_client arm(http, cred, emulated_workspace(), emu.base());

  emu.faults({{"responses",
               {{{"method", "GET"},
                 {"path", "/workspaces/trellis-ws$"},
                 {"status", 429},
                 {"times", 2},
                 {"retry_after", 1}},
                {{"method", "GET"}, {"path", "/discovery$"}, {"status", 503}, {"times", 2}},
                {{"method", "POST"}, {"path", "/oauth2/"}, {"drop", true}, {"times", 1}}}}});
  auto start = std::chrono::steady_clock::now();
  const auto ws = arm.workspace_resource();  // the token request (dropped once), then 429 twice
  CHECK(seconds_since(start) >= 2.0);        // Retry-After: 1, twice
  CHECK(ws["name"] == "trellis-ws");
  start = std::chrono::steady_clock::now();
  CHECK(arm.get_absolute(ws["properties"]["discoveryUrl"].get<std::string>()).contains("api"));
  CHECK(seconds_since(start) < 2.0);  // backoff of 100-200 ms, then 200-400 ms

  const auto requests = emu.state()["requests"];
  std::vector<long> workspace_answers;
  for (const auto& r : requests)
    if (r["path"].get<std::string>().ends_with("/workspaces/trellis-ws"))
      workspace_answers.push_back(r["status"]);
  CHECK(workspace_answers == std::vector<long>{429, 429, 200});
  CHECK_THAT(emu.log(), Catch::Contains("/oauth2/v2.0/token -> connection dropped"));

  // A service that keeps failing: the client gives up after its attempts, naming the URL only.
  emu.faults({{"responses",
               {{{"method", "GET"}, {"path", "/discovery$"}, {"status", 503}, {"times", 10}}}}});
  az::http_client impatient({3, std::chrono::milliseconds{10}, std::chrono::milliseconds{20}});
  CHECK_THROWS_WITH(
      impatient.send({"GET", emu.base() + "/discovery?sig=SECRET"}),
      Catch::Contains("HTTP 503 (gave up after 3 attempts)") && !Catch::Contains("SECRET"));
}

TEST_CASE("credentials: AZURE_ACCESS_TOKEN, then client credentials, then the Azure CLI",
          "[http]") {
  const auto dir = azure_test::work_dir("http-credentials");
  emulator emu(dir);
  az::http_client http;
  SECTION("a token given as is") {
    scoped_env env({{"AZURE_ACCESS_TOKEN", emu.options().token}, {"AZURE_CLIENT_ID", "ignored"}});
    auto cred = az::credential::from_environment(http);
    CHECK(cred.source() == "AZURE_ACCESS_TOKEN");
    CHECK(cred.token() == emu.options().token);
  }
  SECTION("client credentials against the token endpoint") {
    scoped_env env(emu.driver_env());
    auto cred = az::credential::from_environment(http);
    CHECK_THAT(cred.source(), Catch::Contains("client credentials (AZURE_CLIENT_ID 22222222-"));
    CHECK(cred.token() == emu.options().token);
  }
  SECTION("a wrong client secret is named as the source, never shown") {
    auto vars = emu.driver_env();
    vars["AZURE_CLIENT_SECRET"] = "wrong-" + emu.options().client_secret;
    scoped_env env(vars);
    auto cred = az::credential::from_environment(http);
    try {
      cred.token();
      FAIL("a wrong secret gave a token");
    } catch (const az::auth_error& e) {
      const std::string what = e.what();
      CHECK_THAT(what, Catch::Contains("refused client credentials (AZURE_CLIENT_ID") &&
                           Catch::Contains("HTTP 401: invalid_client") &&
                           Catch::Contains("AADSTS7000215"));
      CHECK(what.find(vars["AZURE_CLIENT_SECRET"]) == std::string::npos);
    }
  }
  SECTION("incomplete client credentials say what is missing") {
    scoped_env env({{"AZURE_ACCESS_TOKEN", ""},
                    {"AZURE_TENANT_ID", "t"},
                    {"AZURE_CLIENT_ID", ""},
                    {"AZURE_CLIENT_SECRET", "x"}});
    CHECK_THROWS_WITH(az::credential::from_environment(http),
                      Catch::Contains("AZURE_CLIENT_ID not set"));
  }
  SECTION("the Azure CLI when nothing else is set") {
    // A stand-in for `az` on PATH: it answers as `az account get-access-token -o json` does.
    const fs::path bin = dir / "bin";
    fs::create_directories(bin);
    std::ofstream(bin / "az") << "#!/bin/sh\necho 'WARNING: a notice on stderr' >&2\n"
                                 "[ \"$1 $2 $4\" = 'account get-access-token "
                                 "https://management.azure.com/.default' ] || exit 3\n"
                                 "echo '{\"accessToken\": \""
                              << emu.options().token
                              << "\", \"expires_on\": 4102444800, \"tokenType\": \"Bearer\"}'\n";
    fs::permissions(bin / "az", fs::perms::owner_all);
    scoped_env env({{"AZURE_ACCESS_TOKEN", ""},
                    {"AZURE_TENANT_ID", ""},
                    {"AZURE_CLIENT_ID", ""},
                    {"AZURE_CLIENT_SECRET", ""},
                    {"PATH", bin.string() + ":" + std::getenv("PATH")}});
    auto cred = az::credential::from_environment(http);
    CHECK_THAT(cred.source(), Catch::Contains("Azure CLI"));
    CHECK(cred.token() == emu.options().token);
    // A CLI that is not signed in: its message is passed on.
    std::ofstream(bin / "az")
        << "#!/bin/sh\necho \"ERROR: Please run 'az login' to setup account.\"\nexit 1\n";
    auto signed_out = az::credential::from_environment(http);
    CHECK_THROWS_WITH(signed_out.token(), Catch::Contains("Please run 'az login'") &&
                                              Catch::Contains("exited with code 1"));
  }
  SECTION("none at all") {
    scoped_env env({{"AZURE_ACCESS_TOKEN", ""},
                    {"AZURE_TENANT_ID", ""},
                    {"AZURE_CLIENT_ID", ""},
                    {"AZURE_CLIENT_SECRET", ""},
                    {"PATH", (dir / "empty-path").string()}});
    CHECK_THROWS_WITH(az::credential::from_environment(http),
                      Catch::Contains("no Azure credentials"));
  }
}

TEST_CASE("ARM refusals say which credential was used; a missing workspace is named", "[http]") {
  emulator emu(azure_test::work_dir("http-refusals"));
  az::http_client http;
  {
    const std::string wrong = "not-" + emu.options().token;
    scoped_env env({{"AZURE_ACCESS_TOKEN", wrong}});
    auto cred = az::credential::from_environment(http);
    az::arm_client arm(http, cred, emulated_workspace(), emu.base());
    try {
      arm.workspace_resource();
      FAIL("a wrong token was accepted");
    } catch (const az::auth_error& e) {
      const std::string what = e.what();
      CHECK_THAT(what, Catch::Contains(
                           "Azure refused the access token from AZURE_ACCESS_TOKEN (HTTP 401") &&
                           Catch::Contains("InvalidAuthenticationToken"));
      CHECK(what.find(wrong) == std::string::npos);
    }
  }
  scoped_env env({{"AZURE_ACCESS_TOKEN", emu.options().token}});
  auto cred = az::credential::from_environment(http);
  auto ws = emulated_workspace();
  ws.name = "no-such-workspace";
  az::arm_client arm(http, cred, ws, emu.base());
  CHECK_THROWS_WITH(
      arm.workspace_resource(),
      Catch::Contains(
          "Azure ML workspace 'no-such-workspace' was not found in resource group 'trellis-rg'"));
}

TEST_CASE("the MLflow client logs metrics one by one and in batches, and reads them back",
          "[mlflow]") {
  emulator emu(azure_test::work_dir("mlflow"));
  const auto created = emu.request(
      "POST", "/mlflow/v1.0" + emulator::workspace_path() + "/api/2.0/mlflow/runs/create", "{}");
  // runs/create wants the token; the emulator refuses it without one.
  CHECK(created.status == 401);
  const std::string run_id = new_mlflow_run(emu);

  // As a worker sees it: the variables Azure ML sets in a job.
  const std::string tracking = emu.base() + "/mlflow/v1.0" + emulator::workspace_path();
  ::setenv("MLFLOW_TRACKING_URI", tracking.c_str(), 1);
  ::setenv("MLFLOW_RUN_ID", run_id.c_str(), 1);
  ::setenv("MLFLOW_TRACKING_TOKEN", emu.options().token.c_str(), 1);
  auto worker = az::mlflow_client::from_environment();
  ::unsetenv("MLFLOW_TRACKING_URI");
  ::unsetenv("MLFLOW_RUN_ID");
  ::unsetenv("MLFLOW_TRACKING_TOKEN");
  REQUIRE(worker);
  CHECK_FALSE(az::mlflow_client::from_environment());  // outside a job: no client

  worker->log_metric({"val_accuracy", 0.5, 1, 0});
  worker->log_metric({"val_accuracy", std::nan(""), 2, 0});  // not sent: JSON has no NaN
  worker->log_metric({"val_accuracy", 0.75, 3, 0});
  std::vector<az::metric_point> losses;
  for (int step = 0; step < 2500; ++step)
    losses.push_back({"train_loss", 1.0 / (step + 1), step, 1700000000000 + step});
  worker->log_batch(losses);  // three requests of at most 1000

  az::mlflow_client reader(tracking, run_id, [&] { return emu.options().token; });
  const auto history = reader.history("train_loss");
  REQUIRE(history.size() == 2500);
  CHECK(history[2499].step == 2499);
  CHECK(history[2499].value == Approx(1.0 / 2500));
  CHECK(history[10].timestamp_ms == 1700000000010);
  const auto accuracy = reader.history("val_accuracy");
  REQUIRE(accuracy.size() == 2);
  CHECK(accuracy[1].value == 0.75);
  CHECK(reader.latest_metrics().size() == 2);

  std::size_t batches = 0;
  const auto state = emu.state();
  for (const auto& r : state["requests"])
    batches += r["path"].get<std::string>().ends_with("/runs/log-batch") && r["status"] == 200;
  CHECK(batches == 3);

  // A wrong token is an error that names the endpoint, not the token.
  az::mlflow_client stranger(tracking, run_id, [] { return std::string{"wrong-token-value"}; });
  CHECK_THROWS_WITH(stranger.log_metric({"x", 1, 0, 0}),
                    Catch::Contains("HTTP 401") && !Catch::Contains("wrong-token-value"));
}

TEST_CASE(
    "rank 0's forwarder sends the trainer's metrics while training goes on, each rank's "
    "values under a key of their own",
    "[mlflow]") {
  emulator emu(azure_test::work_dir("mlflow-forwarder"));
  const std::string run_id = new_mlflow_run(emu);
  const std::string tracking = emu.base() + "/mlflow/v1.0" + emulator::workspace_path();
  auto logged = [&] { return emu.state()["metrics"][run_id]; };
  {
    auto forwarder = std::make_shared<az::mlflow_forwarder>(
        az::mlflow_client(tracking, run_id, [&] { return emu.options().token; }),
        std::chrono::milliseconds{100});
    const auto sink = az::mlflow_forwarder::sink(forwarder);
    sink({"train_loss", 5, 1, 0, 0.25, 1700000000.5});
    sink({"rank_images_per_s", 5, 1, 1, 40.0, 1700000000.5});
    sink({"val_loss", 5, 1, 0, std::nan(""), 1700000001.0});  // JSON has no NaN: not sent
    // Sent before the forwarder is closed: as it goes, not at the end.
    for (int i = 0; i < 100 && logged().size() < 2; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds{50});
    const auto early = logged();
    REQUIRE(early.size() == 2);
    CHECK(
        early[0] ==
        json({{"key", "train_loss"}, {"value", 0.25}, {"step", 5}, {"timestamp", 1700000000500}}));
    CHECK(early[1]["key"] == "images_per_s/rank_1");
    for (int step = 6; step < 1206; ++step) sink({"train_loss", step, 2, 0, 1.0 / step, 1.7e9});
    forwarder->close();
    CHECK(forwarder->sent() == 1202);
    CHECK(forwarder->dropped() == 0);
  }
  CHECK(logged().size() == 1202);

  // MLflow refusing the values (a wrong token) is reported and costs the values, not the training.
  az::mlflow_forwarder refused(
      az::mlflow_client(tracking, run_id, [] { return std::string{"wrong-token-value"}; }),
      std::chrono::milliseconds{100});
  refused.add({"train_loss", 1, 1, 0, 0.5, 1.7e9});
  refused.close();
  CHECK(refused.sent() == 0);
  CHECK(refused.dropped() == 1);
}
