// collect_provenance: where a run comes from — the git commit of the checkout the program runs
// from (and whether it has uncommitted changes), this host, and the library versions the caller
// reports (core/library_versions.hpp on the LibTorch side).
#pragma once
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <string>
#include <utility>

#include "trellis/core/process/capture.hpp"
#include "trellis/workspace/run_record.hpp"
#include "trellis/workspace/runs.hpp"

namespace trellis::workspace {

struct git_state {
  std::string commit;
  bool dirty = false;
};

/// The checkout `dir` is in, if any (and if git is installed).
inline std::optional<git_state> read_git_state(const std::filesystem::path& dir) {
  using core::process::capture_output;
  auto head = capture_output({"git", "-C", dir.string(), "rev-parse", "--verify", "HEAD"});
  if (!head || head->size() < 40) return std::nullopt;
  const auto changes = capture_output(
      {"git", "-C", dir.string(), "status", "--porcelain", "--untracked-files=no"});
  return git_state{head->substr(0, 40), !changes || !changes->empty()};
}

/// The current folder's checkout, else that of the program's own file.
inline provenance collect_provenance(std::string torch, std::string cuda, std::string nccl) {
  provenance p;
  auto git = read_git_state(std::filesystem::current_path());
  if (!git) {
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) git = read_git_state(self.parent_path());
  }
  if (git) {
    p.git_commit = git->commit;
    p.git_dirty = git->dirty;
  }
  p.torch_version = std::move(torch);
  p.cuda_version = std::move(cuda);
  p.nccl_version = std::move(nccl);
  p.host = host_name();
  return p;
}

}  // namespace trellis::workspace
