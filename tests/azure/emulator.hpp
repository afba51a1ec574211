// The Azure ML emulator as the tests use it: started on loopback (a real HTTP server, Python
// with Debian's jsonschema) with its own state folder, secrets chosen per test, faults set
// through its test endpoint, its state read back, and stopped with the jobs it runs.
#pragma once
#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <trellis/backends/azure/http.hpp>
#include <trellis/core/process/child.hpp>
#include <vector>

namespace azure_test {

namespace fs = std::filesystem;
using json = nlohmann::json;

inline std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>{in}, {}};
}

inline std::string random_word(const std::string& prefix) {
  std::random_device random;
  return prefix + std::to_string(random()) + std::to_string(random());
}

/// A fresh folder under the tests' work folder.
inline fs::path work_dir(const std::string& name) {
  const fs::path dir = fs::path{TRELLIS_AZURE_WORK_DIR} / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

struct emulator_options {
  std::string client_secret = random_word("secret-");
  std::string token = random_word("token-");
  std::vector<std::string> job_env;
  int compute_polls = 2;
};

class emulator {
 public:
  static constexpr const char* subscription = "00000000-1111-2222-3333-444444444444";
  static constexpr const char* resource_group = "trellis-rg";
  static constexpr const char* workspace = "trellis-ws";
  static constexpr const char* tenant = "11111111-2222-3333-4444-555555555555";
  static constexpr const char* client_id = "22222222-3333-4444-5555-666666666666";

  emulator(const fs::path& dir, emulator_options options = {})
      : dir_{dir}, options_{std::move(options)} {
    fs::create_directories(dir_);
    std::vector<std::string> argv{
        TRELLIS_AZURE_PYTHON,
        "-B",
        std::string{TRELLIS_AZURE_TEST_DIR} + "/emulator/azureml_emulator.py",
        "--spec=" + std::string{TRELLIS_AZURE_TEST_DIR} + "/spec/2025-09-01",
        "--state=" + (dir_ / "state").string(),
        "--ready-file=" + (dir_ / "ready").string(),
        "--client-secret=" + options_.client_secret,
        "--issue-token=" + options_.token,
        "--compute-polls=" + std::to_string(options_.compute_polls)};
    for (const auto& e : options_.job_env) argv.push_back("--job-env=" + e);
    process_ = trellis::core::process::child::spawn({argv, {}, log_file(), false});
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{30};
    while (!fs::exists(dir_ / "ready")) {
      if (!process_.running() || process_.try_wait() || std::chrono::steady_clock::now() > deadline)
        FAIL("the emulator did not start:\n" << log());
      std::this_thread::sleep_for(std::chrono::milliseconds{50});
    }
    base_ = read_file(dir_ / "ready");
  }
  ~emulator() {
    // SIGTERM lets it stop the jobs it runs (their own process groups) before it exits.
    process_.signal_group(SIGTERM);
    for (int i = 0; i < 200 && process_.running() && !process_.try_wait(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds{50});
  }
  emulator(const emulator&) = delete;
  emulator& operator=(const emulator&) = delete;

  [[nodiscard]] const std::string& base() const { return base_; }
  [[nodiscard]] const emulator_options& options() const { return options_; }
  [[nodiscard]] fs::path log_file() const { return dir_ / "emulator.log"; }
  [[nodiscard]] std::string log() const { return read_file(log_file()); }
  [[nodiscard]] fs::path state_dir() const { return dir_ / "state"; }

  json state() const { return json::parse(request("GET", "/_emulator/state", "").body); }

  /// {"responses": [{method, path (regex), status, times, retry_after, drop}], "jobs": {...}}
  void faults(const json& f) const {
    REQUIRE(request("POST", "/_emulator/faults", f.dump()).status == 200);
  }

  /// The variables a driver needs to reach this emulator with client credentials.
  [[nodiscard]] std::map<std::string, std::string> driver_env() const {
    return {{"TRELLIS_AZURE_ARM_ENDPOINT", base_},
            {"AZURE_AUTHORITY_HOST", base_},
            {"AZURE_TENANT_ID", tenant},
            {"AZURE_CLIENT_ID", client_id},
            {"AZURE_CLIENT_SECRET", options_.client_secret},
            {"AZURE_ACCESS_TOKEN", ""}};
  }
  /// The flags that name the emulated workspace.
  [[nodiscard]] static std::vector<std::string> workspace_flags() {
    return {std::string{"--subscription="} + subscription,
            std::string{"--resource-group="} + resource_group,
            std::string{"--azure-workspace="} + workspace};
  }
  [[nodiscard]] static std::string workspace_path() {
    return std::string{"/subscriptions/"} + subscription + "/resourceGroups/" + resource_group +
           "/providers/Microsoft.MachineLearningServices/workspaces/" + workspace;
  }

  trellis::backends::azure::http_response request(const std::string& method,
                                                  const std::string& path,
                                                  const std::string& body) const {
    trellis::backends::azure::http_client http;
    return http.send({method, base_ + path, {"Content-Type: application/json"}, body});
  }

 private:
  fs::path dir_;
  emulator_options options_;
  trellis::core::process::child process_;
  std::string base_;
};

/// The processes still running with their working folder under `folder` (a job's ranks).
inline std::vector<std::string> processes_under(const fs::path& folder) {
  std::vector<std::string> found;
  const std::string prefix = fs::weakly_canonical(folder).string() + "/";
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::error_code ec;
    const auto cwd = fs::read_symlink(e.path() / "cwd", ec);
    if (!ec && (cwd.string() + "/").starts_with(prefix))
      found.push_back(e.path().filename().string());
  }
  return found;
}

/// Every file under `root` (and the extra files) that contains `secret`.
inline std::vector<std::string> files_containing(const std::vector<fs::path>& roots,
                                                 const std::string& secret) {
  std::vector<std::string> found;
  for (const auto& root : roots) {
    if (fs::is_regular_file(root)) {
      if (read_file(root).find(secret) != std::string::npos) found.push_back(root.string());
      continue;
    }
    if (!fs::exists(root)) continue;
    for (const auto& e : fs::recursive_directory_iterator(root))
      if (e.is_regular_file() && read_file(e.path()).find(secret) != std::string::npos)
        found.push_back(e.path().string());
  }
  return found;
}

}  // namespace azure_test
