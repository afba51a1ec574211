// metrics_follower: indexes a run's metrics.jsonl (the artifact rank 0 appends to) into the
// workspace database while the run goes on. Only complete lines are read; a file that was
// replaced (a resumed run rewrites it, as a new file) or shortened is read again from the start.
#pragma once
#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "trellis/core/train/metric_record.hpp"
#include "trellis/workspace/error.hpp"
#include "trellis/workspace/metrics.hpp"
#include "trellis/workspace/sqlite.hpp"

namespace trellis::workspace {

class metrics_follower {
 public:
  metrics_follower(std::filesystem::path file, std::string run_id)
      : file_{std::move(file)}, run_id_{std::move(run_id)} {}

  /// Indexes what the file gained since the last call; returns how many points it wrote.
  std::size_t sync(database& db) {
    struct stat st {};
    if (::stat(file_.c_str(), &st) != 0) return 0;
    const bool replaced = st.st_ino != inode_ || static_cast<std::uint64_t>(st.st_size) < offset_;
    if (replaced) {
      clear_metrics(db, run_id_);
      inode_ = st.st_ino;
      offset_ = 0;
    }
    std::ifstream in(file_, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(offset_));
    std::vector<metric_point> points;
    std::string line;
    while (std::getline(in, line)) {
      if (in.eof()) break;  // no newline yet: rank 0 is still writing this line
      offset_ += line.size() + 1;
      if (line.empty()) continue;
      auto p = core::parse_metric_line(line);
      if (!p)
        throw workspace_error(fmt::format("'{}': the line at byte {} is not a metric: {}",
                                          file_.string(), offset_ - line.size() - 1, line));
      points.push_back(std::move(*p));
    }
    put_metrics(db, run_id_, points);
    return points.size();
  }

 private:
  std::filesystem::path file_;
  std::string run_id_;
  ino_t inode_ = 0;
  std::uint64_t offset_ = 0;
};

}  // namespace trellis::workspace
