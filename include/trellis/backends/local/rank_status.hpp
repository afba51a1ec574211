// Rank status files: <run>/status/rank_<N>.json says whether rank N runs, finished or failed,
// how, and when (CLOCK_MONOTONIC, one clock for every process of this host). A rank writes its
// own; the process that started a rank (driver, node launcher, rank keeper under mpirun) writes
// it for a rank that ended without one (killed by a signal). The driver reads them all to
// report the rank that failed first, rather than the first process it saw end.
#pragma once
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace trellis::backends::local {

struct rank_status {
  std::size_t rank = 0;
  std::string state = "running";  ///< "running", "finished" or "failed"
  std::string how;                ///< "error: ..." or "killed by signal 9 (Killed)"
  /// The failure is a collective's: the rank noticed another rank end or stall, so another
  /// failure (when known) came first, whatever the clock says.
  bool consequence = false;
  std::int64_t at_ns = 0;  ///< CLOCK_MONOTONIC when it failed
  int pid = 0;
  std::string written_by;  ///< "the rank", "its node launcher", "the driver", ...
};

inline std::int64_t monotonic_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline std::filesystem::path status_folder(const std::filesystem::path& run_dir) {
  return run_dir / "status";
}
inline std::filesystem::path status_file(const std::filesystem::path& run_dir, std::size_t rank) {
  return status_folder(run_dir) / ("rank_" + std::to_string(rank) + ".json");
}

namespace detail {
inline std::string status_json(const rank_status& s) {
  return nlohmann::json{{"rank", s.rank},       {"state", s.state}, {"how", s.how},
                        {"consequence", s.consequence}, {"at_ns", s.at_ns}, {"pid", s.pid},
                        {"written_by", s.written_by}}
      .dump();
}
}  // namespace detail

/// What a failing rank prints last. A collective's failure reads differently from the rank's own,
/// so that a driver holding only the logs (Azure's) can tell which rank failed first.
inline std::string own_failure_prefix(std::size_t rank) {
  return fmt::format("[trellis] rank {}: error: ", rank);
}
inline std::string collective_failure_prefix(std::size_t rank) {
  return fmt::format("[trellis] rank {}: error in a collective: ", rank);
}
inline std::string failure_line(std::size_t rank, const std::string& what, bool consequence) {
  return (consequence ? collective_failure_prefix(rank) : own_failure_prefix(rank)) + what;
}

/// A rank's own status file, created when it starts with room reserved for its last word: a rank
/// that fails because the disk is full can still say so.
class own_status {
 public:
  static constexpr std::size_t room = 8192;

  own_status(const std::filesystem::path& run_dir, std::size_t rank) {
    status_.rank = rank;
    std::error_code ec;
    std::filesystem::create_directories(status_folder(run_dir), ec);
    fd_ =
        ::open(status_file(run_dir, rank).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) return;  // the run goes on; the driver then reports what it saw of this rank
    (void)::posix_fallocate(fd_, 0, room);
    status_.pid = static_cast<int>(::getpid());
    status_.written_by = "the rank";
    write();
  }
  ~own_status() {
    if (fd_ >= 0) ::close(fd_);
  }
  own_status(const own_status&) = delete;
  own_status& operator=(const own_status&) = delete;

  void finished() {
    status_.state = "finished";
    status_.at_ns = monotonic_ns();
    write();
  }
  void failed(const std::string& how, bool consequence) {
    status_.at_ns = monotonic_ns();
    status_.state = "failed";
    status_.how = how.size() > room / 2 ? how.substr(0, room / 2) + "..." : how;
    status_.consequence = consequence;
    write();
  }

 private:
  /// Over the reserved bytes, padded with spaces (JSON allows them): no block is allocated.
  void write() {
    if (fd_ < 0) return;
    std::string text = detail::status_json(status_);
    text.resize(std::max(text.size(), room - 1), ' ');
    text += '\n';
    (void)::pwrite(fd_, text.data(), text.size(), 0);
  }

  rank_status status_;
  int fd_ = -1;
};

/// Rank `rank`'s status, or nullopt when it wrote none or it does not parse.
inline std::optional<rank_status> read_status(const std::filesystem::path& run_dir,
                                              std::size_t rank) {
  std::ifstream in(status_file(run_dir, rank));
  if (!in) return std::nullopt;
  try {
    const auto j = nlohmann::json::parse(in);
    rank_status s;
    s.rank = j.at("rank").get<std::size_t>();
    s.state = j.at("state").get<std::string>();
    s.how = j.at("how").get<std::string>();
    s.consequence = j.at("consequence").get<bool>();
    s.at_ns = j.at("at_ns").get<std::int64_t>();
    s.pid = j.at("pid").get<int>();
    s.written_by = j.at("written_by").get<std::string>();
    return s;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

/// For a rank that ended without saying why (a signal): its starter writes this, unless the rank
/// wrote a failure of its own.
inline void write_status_for(const std::filesystem::path& run_dir, const rank_status& s) {
  if (const auto own = read_status(run_dir, s.rank); own && own->state == "failed") return;
  std::error_code ec;
  std::filesystem::create_directories(status_folder(run_dir), ec);
  const auto file = status_file(run_dir, s.rank);
  auto temporary = file;
  temporary += ".new";
  std::ofstream(temporary, std::ios::trunc) << detail::status_json(s) << '\n';
  std::filesystem::rename(temporary, file, ec);
}

/// The failure that came first among ranks 0..world-1: a rank's own failure before any that was
/// only a consequence of it, then in time order.
inline std::optional<rank_status> first_failure(const std::filesystem::path& run_dir,
                                                std::size_t world) {
  std::optional<rank_status> first;
  for (std::size_t r = 0; r < world; ++r) {
    const auto s = read_status(run_dir, r);
    if (!s || s->state != "failed") continue;
    if (!first || std::pair{s->consequence, s->at_ns} < std::pair{first->consequence, first->at_ns})
      first = s;
  }
  return first;
}

/// Before an attempt: no status of an earlier one is left to be read as this one's.
inline void clear_statuses(const std::filesystem::path& run_dir) {
  std::error_code ec;
  std::filesystem::remove_all(status_folder(run_dir), ec);
}

}  // namespace trellis::backends::local
