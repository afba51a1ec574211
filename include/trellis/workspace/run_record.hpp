// What the workspace keeps of a run: its status (Azure ML's names), where and from what it ran
// (provenance), and its tags; run_status text in one place for the database, tables and JSON.
#pragma once
#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace trellis::workspace {

enum class run_status { not_started, running, completed, failed, canceled };

inline constexpr std::array<std::string_view, 5> run_status_names = {
    "NotStarted", "Running", "Completed", "Failed", "Canceled"};

constexpr std::string_view name_of(run_status s) {
  return run_status_names[static_cast<std::size_t>(s)];
}

inline std::optional<run_status> parse_run_status(std::string_view name) {
  for (std::size_t i = 0; i < run_status_names.size(); ++i)
    if (run_status_names[i] == name) return static_cast<run_status>(i);
  return std::nullopt;
}

/// Where a run came from: enough to tell two runs' code and libraries apart.
struct provenance {
  std::optional<std::string> git_commit;  ///< when the program ran from a git checkout
  std::optional<bool> git_dirty;          ///< uncommitted changes to tracked files
  std::string torch_version;              ///< LibTorch's
  std::string cuda_version;               ///< "none" without CUDA
  std::string nccl_version;               ///< "none" without NCCL
  std::string host;
};

/// What a driver knows when it creates a run.
struct new_run {
  std::string experiment;
  std::string backend;  ///< "local", "azure"
  std::string plan_json;
  std::string settings_json;
  provenance origin;
  std::map<std::string, std::string> tags;
  std::optional<std::string> resumed_from;  ///< the run this one continues
};

struct run_record {
  std::string id;
  std::string experiment;
  std::string backend;
  run_status status = run_status::not_started;
  double created_at = 0;
  std::optional<double> start_time, end_time;  ///< seconds since the epoch
  std::filesystem::path folder;                ///< absolute
  std::string plan_json;
  std::string settings_json;
  provenance origin;
  std::map<std::string, std::string> tags;
  std::optional<std::int64_t> driver_pid;
  std::optional<double> heartbeat_at;
  std::optional<std::string> failure_reason;
  std::optional<std::int64_t> failing_rank;
  std::optional<std::string> external_link;  ///< e.g. the Azure ML job's page
  std::optional<std::string> resumed_from;

  [[nodiscard]] bool finished() const {
    return status == run_status::completed || status == run_status::failed ||
           status == run_status::canceled;
  }
};

}  // namespace trellis::workspace
