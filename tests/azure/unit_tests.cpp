// The Azure backend's pieces that need no server: ignore patterns, the code snapshot, finding
// the workspace's config.json, the URL rule, Retry-After, shell quoting and log names.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <trellis/backends/azure/endpoints.hpp>
#include <trellis/backends/azure/http.hpp>
#include <trellis/backends/azure/ignore_rules.hpp>
#include <trellis/backends/azure/job_watch.hpp>
#include <trellis/backends/azure/make_submission.hpp>
#include <trellis/backends/azure/mlflow_client.hpp>
#include <trellis/backends/azure/snapshot.hpp>
#include <trellis/backends/azure/workspace_config.hpp>

#include "emulator.hpp"

namespace fs = std::filesystem;
namespace az = trellis::backends::azure;
using azure_test::work_dir;

namespace {
void write(const fs::path& file, const std::string& text = "x") {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << text;
}
}  // namespace

TEST_CASE("ignore patterns mean what they mean to git", "[unit]") {
  const az::ignore_rules r(
      "# "
      "comment\n*.o\n/top.txt\nbuild/\ndocs/**/draft.md\n!keep.o\nlogs/"
      "**\n\\#hash\nfile?.c\n[ab].h\n");
  CHECK(r.match("x.o", false) == true);
  CHECK(r.match("deep/er/x.o", false) == true);
  CHECK(r.match("keep.o", false) == false);  // re-included
  CHECK(r.match("deep/keep.o", false) == false);
  CHECK(r.match("top.txt", false) == true);
  CHECK_FALSE(r.match("sub/top.txt", false));  // anchored to the file's folder
  CHECK(r.match("build", true) == true);
  CHECK_FALSE(r.match("build", false));  // a trailing / matches folders only
  CHECK(r.match("sub/build", true) == true);
  CHECK(r.match("docs/draft.md", false) == true);
  CHECK(r.match("docs/a/b/draft.md", false) == true);
  CHECK_FALSE(r.match("docs/a/final.md", false));
  CHECK(r.match("logs/a/b.txt", false) == true);
  CHECK(r.match("#hash", false) == true);
  CHECK(r.match("file1.c", false) == true);
  CHECK_FALSE(r.match("file10.c", false));
  CHECK(r.match("a.h", false) == true);
  CHECK_FALSE(r.match("c.h", false));
  CHECK_FALSE(r.match("src/main.cpp", false));
}

TEST_CASE("the snapshot honours .amlignore over .gitignore and never takes private or build files",
          "[unit]") {
  const fs::path root = work_dir("snapshot");
  const std::string secret = "s3cr3t-value-of-the-test";
  for (const char* f : {"src/main.cpp",
                        "CMakeLists.txt",
                        "notes.log",
                        "data/a.png",
                        "data/big/huge.bin",
                        "sub/a.tmp",
                        "sub/keep.tmp",
                        "sub/code.cpp",
                        "nested/x.skip",
                        "nested/y.txt",
                        ".git/config",
                        "build/CMakeCache.txt",
                        "build/main.o",
                        "other-build/CMakeCache.txt",
                        "ws/workspace.db",
                        "trellis-workspace/runs/r/model.pt",
                        "outputs/model.pt",
                        "deep/outputs/kept.txt",
                        ".env",
                        "keys/id_rsa",
                        "cert.pem",
                        ".azureml/config.json",
                        "__pycache__/m.pyc"})
    write(root / f);
  write(root / "leaky.txt", "token=" + secret);
  write(root / ".gitignore", "*.log\n__pycache__/\n");  // not used at the top: .amlignore is
  write(root / ".amlignore", "data/big/\n__pycache__/\n");
  write(root / "sub/.gitignore", "*.tmp\n!keep.tmp\n");
  write(root / "nested/.gitignore", "*.txt\n");
  write(root / "nested/.amlignore", "*.skip\n");  // wins over nested/.gitignore

  const auto s = az::collect_snapshot(root, {{root / "ws"}, {secret}});
  std::vector<std::string> names;
  for (const auto& f : s.files) names.push_back(f.relative);
  CHECK(names == std::vector<std::string>{".amlignore", ".gitignore", "CMakeLists.txt",
                                          "data/a.png", "deep/outputs/kept.txt",
                                          "nested/.amlignore", "nested/.gitignore", "nested/y.txt",
                                          "notes.log", "src/main.cpp", "sub/.gitignore",
                                          "sub/code.cpp", "sub/keep.tmp"});
  CHECK(s.withheld == std::vector<std::string>{"leaky.txt"});
  CHECK(s.hash.size() == 16);
  // The version follows the content: same files, same hash; one byte more, another.
  CHECK(az::collect_snapshot(root, {{root / "ws"}, {secret}}).hash == s.hash);
  write(root / "src/main.cpp", "xy");
  CHECK(az::collect_snapshot(root, {{root / "ws"}, {secret}}).hash != s.hash);
}

TEST_CASE("config.json is found here, in .azureml/ or above, and flags override it", "[unit]") {
  const fs::path root = work_dir("config");
  write(root / "a/config.json", R"({"tool": "not Azure's"})");
  write(root / "a/.azureml/config.json",
        R"({"subscription_id": "sub-1", "resource_group": "rg-1", "workspace_name": "ws-1"})");
  fs::create_directories(root / "a/b/c");
  trellis::cli::options o;
  auto ws = az::resolve_workspace(o, root / "a/b/c");
  CHECK(ws.subscription == "sub-1");
  CHECK(ws.resource_group == "rg-1");
  CHECK(ws.name == "ws-1");
  CHECK(ws.config_file == fs::weakly_canonical(root / "a/.azureml/config.json"));
  CHECK(ws.path() ==
        "/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.MachineLearningServices/"
        "workspaces/ws-1");

  write(root / "a/b/config.json",
        R"({"subscription_id": "sub-2", "resource_group": "rg-2", "workspace_name": "ws-2"})");
  o.azure_workspace = "from-flag";
  ws = az::resolve_workspace(o, root / "a/b/c");
  CHECK(ws.subscription == "sub-2");
  CHECK(ws.name == "from-flag");

  const fs::path empty = work_dir("config-none");
  trellis::cli::options none;
  none.azure_subscription = "s";
  CHECK_THROWS_WITH(
      az::resolve_workspace(none, empty),
      Catch::Contains(
          "--resource-group (resource_group), --azure-workspace (workspace_name) not given"));
}

TEST_CASE("URLs are https, or plain http to loopback only; errors never show a query", "[unit]") {
  CHECK_NOTHROW(az::require_allowed("https://management.azure.com/x", "ARM"));
  CHECK_NOTHROW(az::require_allowed("http://127.0.0.1:8080/x", "ARM"));
  CHECK_NOTHROW(az::require_allowed("http://localhost/x", "ARM"));
  CHECK_NOTHROW(az::require_allowed("http://[::1]:9/x", "ARM"));
  CHECK_THROWS_WITH(az::require_allowed("http://management.azure.com/x", "ARM"),
                    Catch::Contains("must be https"));
  CHECK_THROWS(az::require_allowed("http://127.0.0.1.evil.example/x", "ARM"));
  CHECK_THROWS(az::require_allowed("ftp://127.0.0.1/x", "ARM"));
  CHECK(az::redact("https://a.blob.core.windows.net/c/f.txt?sv=1&sig=SECRET") ==
        "https://a.blob.core.windows.net/c/f.txt");
  CHECK(az::mlflow_base_url("azureml://westeurope.api.azureml.ms/mlflow/v1.0/subscriptions/s/") ==
        "https://westeurope.api.azureml.ms/mlflow/v1.0/subscriptions/s");
  CHECK(az::mlflow_base_url("azureml://127.0.0.1:5000/mlflow/v1.0") ==
        "http://127.0.0.1:5000/mlflow/v1.0");
}

TEST_CASE("Retry-After in seconds, milliseconds or as an HTTP date", "[unit]") {
  az::http_response r;
  CHECK(az::detail::retry_after(r).count() == 0);
  r.headers["retry-after"] = "3";
  CHECK(az::detail::retry_after(r).count() == 3000);
  r.headers["retry-after-ms"] = "250";
  CHECK(az::detail::retry_after(r).count() == 250);
  r.headers.erase("retry-after-ms");
  r.headers["retry-after"] = "Wed, 21 Oct 2015 07:28:00 GMT";  // in the past: no wait
  CHECK(az::detail::retry_after(r).count() == 0);
}

TEST_CASE("the job command quotes what the shell would change and keeps ${{...}} bare", "[unit]") {
  CHECK(az::detail::shell_word("--set=train.lr=0.001") == "--set=train.lr=0.001");
  CHECK(az::detail::shell_word("${{outputs.model}}") == "${{outputs.model}}");
  CHECK(az::detail::shell_word("--set=dataset.root=my data") == "'--set=dataset.root=my data'");
  CHECK(az::detail::shell_word("it's $HOME") == "'it'\\''s $HOME'");
  CHECK(az::rank_of_log("user_logs/std_log_process_12.txt") == std::optional<std::size_t>{12});
  CHECK(az::rank_of_log("user_logs/std_log.txt") == std::optional<std::size_t>{0});
  CHECK(az::rank_of_log("Execution failed ... check log file 'user_logs/std_log_process_1.txt' for "
                        "error details") == std::optional<std::size_t>{1});
  CHECK_FALSE(az::rank_of_log("system_logs/lifecycler.log"));
}

TEST_CASE("a failed job names the rank whose own error came first, not one that saw it in a "
          "collective, whichever process Azure names",
          "[unit]") {
  const auto run = work_dir("first-failed-rank");
  namespace local = trellis::backends::local;
  const auto log = [&](std::size_t rank, const std::string& last) {
    write(az::rank_log_file(run, rank), fmt::format("[trellis] rank {} of 3\n{}\n", rank, last));
  };
  const std::string azure_names_0 =
      "Execution failed. User process 'bash' exited with status code 1. Please check log file "
      "'user_logs/std_log_process_0.txt' for error details.";
  log(0,
      local::failure_line(0, "[trellis] ddp: gradient allreduce failed: Connection closed", true));
  log(1, "[trellis] rank 1 finished");
  log(2, local::failure_line(2, "cannot decode train/a/7.png", false));
  CHECK(az::first_failed_rank(run, {0, 1, 2}, azure_names_0) == std::optional<std::size_t>{2});

  // With no rank's own error in the logs, the rank Azure names; then one that failed at all.
  log(2, local::failure_line(2, "[trellis] ddp: broadcast timed out", true));
  CHECK(az::first_failed_rank(run, {0, 1, 2}, azure_names_0) == std::optional<std::size_t>{0});
  CHECK(az::first_failed_rank(run, {1, 2}, "Execution failed.") == std::optional<std::size_t>{2});
  log(2, "[trellis] rank 2 finished");
  CHECK_FALSE(az::first_failed_rank(run, {1, 2}, "Execution failed."));
}
