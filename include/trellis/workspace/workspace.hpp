// workspace: a folder (default ./trellis-workspace) holding workspace.db, the run folders and the
// model registry. Opening one creates or upgrades its database and marks as Failed the runs whose
// driver is gone; runs.hpp, metrics.hpp and registry.hpp act on the database it holds.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "trellis/workspace/metrics.hpp"
#include "trellis/workspace/registry.hpp"
#include "trellis/workspace/runs.hpp"
#include "trellis/workspace/schema.hpp"
#include "trellis/workspace/sqlite.hpp"

namespace trellis::workspace {

class workspace {
 public:
  explicit workspace(const std::filesystem::path& root)
      : root_{std::filesystem::absolute(root)}, db_{(create(root_), root_ / "workspace.db")} {
    migrate(db_);
    stale_ = mark_stale_runs(db_);
  }

  [[nodiscard]] const std::filesystem::path& root() const { return root_; }
  [[nodiscard]] database& db() { return db_; }
  /// The runs this opening found stale and marked Failed.
  [[nodiscard]] const std::vector<std::string>& stale_runs() const { return stale_; }

 private:
  static void create(const std::filesystem::path& root) {
    std::error_code ec;
    std::filesystem::create_directories(root, ec);
    if (ec)
      throw workspace_error(
          fmt::format("cannot create the workspace '{}': {}", root.string(), ec.message()));
  }

  std::filesystem::path root_;
  database db_;
  std::vector<std::string> stale_;
};

}  // namespace trellis::workspace
