// The drivers the Azure tests start: a pipeline program run with the emulator's endpoints and
// credentials (from a working folder of their choice, as a user would start it), the `trellis`
// tool on the driver's workspace, and a fashion-base for examples/transfer_learning.cpp to start
// from: a torchvision ResNet-18 state dict (1-channel conv1, 5 classes) saved by Python and
// imported into the workspace's registry.
#pragma once
#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>
#include <trellis/core/process/child.hpp>
#include <vector>

#include "emulator.hpp"

namespace azure_test {

/// Where examples/transfer_learning.cpp starts in the tests: its data root, data/fashion-target,
/// is in this folder, inside the code snapshot.
inline const fs::path transfer_folder = fs::path{TRELLIS_AZURE_TEST_DIR} / "data" / "transfer";

struct driver {
  fs::path dir;
  trellis::core::process::child proc;

  /// `program` with --workspace=dir/ws and the emulated workspace, started in `cwd`.
  driver(const fs::path& d, std::map<std::string, std::string> env,
         std::vector<std::string> extra = {}, const std::string& program = TRELLIS_AZURE_JOB,
         const fs::path& cwd = {})
      : dir{d} {
    fs::create_directories(dir);
    std::vector<std::string> argv;
    if (!cwd.empty()) argv = {"env", "--chdir=" + cwd.string()};  // env execs: the pid stays
    argv.push_back(program);
    argv.push_back("--workspace=" + workspace().string());
    for (auto& f : emulator::workspace_flags()) argv.push_back(f);
    argv.insert(argv.end(), extra.begin(), extra.end());
    proc = trellis::core::process::child::spawn({argv, env, output_file(), false});
  }
  [[nodiscard]] fs::path workspace() const { return dir / "ws"; }
  [[nodiscard]] fs::path output_file() const { return dir / "driver.log"; }
  [[nodiscard]] std::string output() const { return read_file(output_file()); }

  trellis::core::process::exit_status wait(std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (auto s = proc.try_wait()) return *s;
      std::this_thread::sleep_for(std::chrono::milliseconds{100});
    }
    proc.signal_group(SIGKILL);
    FAIL("the driver did not finish within " << limit.count() << " s:\n" << output());
    return {};
  }
};

/// examples/transfer_learning.cpp as the driver, started in transfer_folder.
inline driver transfer_driver(const fs::path& dir, std::map<std::string, std::string> env,
                              std::vector<std::string> extra = {}) {
  return driver(dir, std::move(env), std::move(extra), TRELLIS_TRANSFER_LEARNING, transfer_folder);
}

/// Runs a program to its end; its output is kept in `log`.
inline std::string run_to_end(const std::vector<std::string>& argv, const fs::path& log) {
  const auto status = trellis::core::process::child::spawn({argv, {}, log, false}).wait();
  INFO(read_file(log));
  REQUIRE(status.success());
  return read_file(log);
}

/// `trellis --workspace=W ARGS... --json`, parsed.
inline json trellis_json(const fs::path& workspace, std::vector<std::string> args) {
  args.insert(args.begin(), {TRELLIS_CLI, "--workspace=" + workspace.string()});
  args.emplace_back("--json");
  return json::parse(run_to_end(args, workspace.parent_path() / "trellis-tool.log"));
}

/// fashion-base:1 in `workspace`: a torchvision ResNet-18 (1 x 28 x 28, 5 classes) that Python
/// saved, imported; returns its file's SHA-256 as the registry recorded it.
inline std::string register_fashion_base(const fs::path& workspace) {
  const fs::path file = workspace.parent_path() / "fashion-base.pt";
  run_to_end({TRELLIS_AZURE_PYTHON, "-c",
              "import sys, torch, torchvision\n"
              "torch.manual_seed(3)\n"
              "m = torchvision.models.resnet18(num_classes=5)\n"
              "m.conv1 = torch.nn.Conv2d(1, 64, 7, 2, 3, bias=False)\n"
              "torch.save(dict(m.state_dict()), sys.argv[1])\n",
              file.string()},
             workspace.parent_path() / "fashion-base-python.log");
  run_to_end(
      {TRELLIS_CLI, "--workspace=" + workspace.string(), "models", "import", "fashion-base",
       "--file=" + file.string(), "--model=resnet18", "--classes=5", "--input-shape=1,28,28"},
      workspace.parent_path() / "fashion-base-import.log");
  const auto card = trellis_json(workspace, {"models", "show", "fashion-base:1"});
  for (const auto& f : card["files"])
    if (f["path"] == "model.pt") return f["sha256"];
  FAIL("fashion-base:1 has no model.pt: " << card.dump());
  return {};
}

inline std::string job_name_in(const std::string& output) {
  static const std::regex submitted(R"(job (\S+) submitted)");
  std::smatch m;
  return std::regex_search(output, m, submitted) ? m[1].str() : "";
}

/// The workspace run an Azure driver recorded ("run <id> in <folder>").
inline std::string run_id_in(const std::string& output) {
  static const std::regex created(R"(\nrun (\S+) in )");
  std::smatch m;
  return std::regex_search(output, m, created) ? m[1].str() : "";
}

}  // namespace azure_test
