// A run's folder, the artifact store the workspace database indexes:
// <workspace>/runs/<experiment>_<n>/{logs,outputs,checkpoints}, with n the next free number.
#pragma once
#include <filesystem>
#include <functional>
#include <string>

namespace trellis::workspace {

struct run_folder {
  std::string id;
  std::filesystem::path root;

  [[nodiscard]] std::filesystem::path logs() const { return root / "logs"; }
  [[nodiscard]] std::filesystem::path rank_log(std::size_t rank) const {
    return logs() / ("rank_" + std::to_string(rank) + ".log");
  }
  [[nodiscard]] std::filesystem::path outputs() const { return root / "outputs"; }
};

/// Claims the next free <experiment>_<n> under <workspace>/runs, skipping the ids `taken` names
/// (a run recorded whose folder is gone). create_directory is the atomic claim: two drivers never
/// share a run id.
inline run_folder create_run_folder(const std::filesystem::path& workspace,
                                    const std::string& experiment,
                                    const std::function<bool(const std::string&)>& taken = {}) {
  namespace fs = std::filesystem;
  fs::create_directories(workspace / "runs");
  for (std::size_t n = 1;; ++n) {
    run_folder run{experiment + "_" + std::to_string(n), {}};
    run.root = workspace / "runs" / run.id;
    if ((!taken || !taken(run.id)) && fs::create_directory(run.root)) {
      for (const char* sub : {"logs", "outputs", "checkpoints"})
        fs::create_directories(run.root / sub);
      return run;
    }
  }
}

}  // namespace trellis::workspace
