// Runs in the workspace database: created by a driver (which claims the run folder), moved
// through their statuses, kept alive by the driver's heartbeat, and read back by id or list.
#pragma once
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "trellis/posix/process_info.hpp"
#include "trellis/workspace/run_folder.hpp"
#include "trellis/workspace/run_record.hpp"
#include "trellis/workspace/sqlite.hpp"

namespace trellis::workspace {

/// Seconds since the epoch: the time of every record in the workspace.
inline double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "unknown";
  return name;
}

namespace detail {
inline constexpr const char* run_columns =
    "id, experiment, backend, status, created_at, start_time, end_time, folder, plan_json, "
    "settings_json, host, driver_pid, heartbeat_at, git_commit, git_dirty, torch_version, "
    "cuda_version, nccl_version, failure_reason, failing_rank, external_link, resumed_from";

inline run_record read_run(statement& s, const std::filesystem::path& workspace_root) {
  run_record r;
  r.id = s.text(0);
  r.experiment = s.text(1);
  r.backend = s.text(2);
  r.status = parse_run_status(s.text(3)).value_or(run_status::failed);
  r.created_at = s.real(4);
  r.start_time = s.optional_real(5);
  r.end_time = s.optional_real(6);
  r.folder = workspace_root / s.text(7);
  r.plan_json = s.text(8);
  r.settings_json = s.text(9);
  r.origin.host = s.text(10);
  r.driver_pid = s.optional_integer(11);
  r.heartbeat_at = s.optional_real(12);
  if (!s.is_null(13)) r.origin.git_commit = s.text(13);
  if (const auto dirty = s.optional_integer(14)) r.origin.git_dirty = *dirty != 0;
  r.origin.torch_version = s.text(15);
  r.origin.cuda_version = s.text(16);
  r.origin.nccl_version = s.text(17);
  if (!s.is_null(18)) r.failure_reason = s.text(18);
  r.failing_rank = s.optional_integer(19);
  if (!s.is_null(20)) r.external_link = s.text(20);
  if (!s.is_null(21)) r.resumed_from = s.text(21);
  return r;
}

inline void read_tags(database& db, run_record& r) {
  auto s = db.prepare("SELECT key, value FROM run_tags WHERE run_id = ?");
  s.bind_all(r.id);
  while (s.step()) r.tags[s.text(0)] = s.text(1);
}
}  // namespace detail

/// Claims runs/<experiment>_<n> and records it as NotStarted, with this process as its driver.
inline run_record create_run(database& db, const std::filesystem::path& workspace_root,
                             const new_run& run) {
  const run_folder folder = create_run_folder(workspace_root, run.experiment, [&](const auto& id) {
    auto s = db.prepare("SELECT 1 FROM runs WHERE id = ?");
    s.bind_all(id);
    return s.step();
  });
  const double now = now_seconds();
  const int pid = static_cast<int>(::getpid());
  transaction t{db};
  db.prepare("INSERT OR IGNORE INTO experiments(name, created_at) VALUES (?, ?)")
      .bind_all(run.experiment, now)
      .run();
  db.prepare(
        "INSERT INTO runs(id, experiment, status, backend, created_at, folder, plan_json, "
        "settings_json, host, driver_pid, driver_started, heartbeat_at, git_commit, git_dirty, "
        "torch_version, cuda_version, nccl_version, resumed_from) "
        "VALUES (?, ?, 'NotStarted', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
      .bind_all(folder.id, run.experiment, run.backend, now,
                std::filesystem::relative(folder.root, workspace_root).string(), run.plan_json,
                run.settings_json, run.origin.host, pid,
                static_cast<std::int64_t>(posix::process_start_ticks(pid).value_or(0)),
                now, run.origin.git_commit, run.origin.git_dirty, run.origin.torch_version,
                run.origin.cuda_version, run.origin.nccl_version, run.resumed_from)
      .run();
  for (const auto& [key, value] : run.tags)
    db.prepare("INSERT INTO run_tags(run_id, key, value) VALUES (?, ?, ?)")
        .bind_all(folder.id, key, value)
        .run();
  t.commit();
  run_record r;
  r.id = folder.id;
  r.experiment = run.experiment;
  r.backend = run.backend;
  r.created_at = now;
  r.folder = std::filesystem::absolute(folder.root);
  r.plan_json = run.plan_json;
  r.settings_json = run.settings_json;
  r.origin = run.origin;
  r.tags = run.tags;
  r.driver_pid = pid;
  r.heartbeat_at = now;
  r.resumed_from = run.resumed_from;
  return r;
}

/// Where the run can be seen outside this workspace (an Azure ML job's page in the Studio).
inline void set_external_link(database& db, const std::string& id, const std::string& link) {
  db.prepare("UPDATE runs SET external_link = ? WHERE id = ?").bind_all(link, id).run();
}

/// NotStarted -> Running, from now.
inline void start_run(database& db, const std::string& id) {
  db.prepare("UPDATE runs SET status = 'Running', start_time = ?, heartbeat_at = ? WHERE id = ?")
      .bind_all(now_seconds(), now_seconds(), id)
      .run();
}

/// The driver is alive: a run whose heartbeat stops is found stale (see find_stale_runs).
inline void heartbeat(database& db, const std::string& id) {
  db.prepare("UPDATE runs SET heartbeat_at = ? WHERE id = ?").bind_all(now_seconds(), id).run();
}

/// Ends a run: Completed, Failed (with the reason and, when known, the rank that failed first)
/// or Canceled. A run that already ended keeps its first ending.
inline void finish_run(database& db, const std::string& id, run_status status,
                       const std::optional<std::string>& reason = std::nullopt,
                       std::optional<std::int64_t> failing_rank = std::nullopt) {
  db.prepare(
        "UPDATE runs SET status = ?, end_time = ?, failure_reason = ?, failing_rank = ? "
        "WHERE id = ? AND status IN ('NotStarted', 'Running')")
      .bind_all(name_of(status), now_seconds(), reason, failing_rank, id)
      .run();
}

inline std::optional<run_record> find_run(database& db, const std::filesystem::path& root,
                                          const std::string& id) {
  auto s = db.prepare(fmt::format("SELECT {} FROM runs WHERE id = ?", detail::run_columns));
  s.bind_all(id);
  if (!s.step()) return std::nullopt;
  auto r = detail::read_run(s, root);
  detail::read_tags(db, r);
  return r;
}

/// Every run, oldest first, or those of one experiment.
inline std::vector<run_record> list_runs(database& db, const std::filesystem::path& root,
                                         const std::optional<std::string>& experiment = {}) {
  auto s = db.prepare(fmt::format(
      "SELECT {} FROM runs WHERE ?1 IS NULL OR experiment = ?1 ORDER BY created_at, id",
      detail::run_columns));
  s.bind_all(experiment);
  std::vector<run_record> out;
  while (s.step()) out.push_back(detail::read_run(s, root));
  for (auto& r : out) detail::read_tags(db, r);
  return out;
}

struct experiment_summary {
  std::string name;
  double created_at = 0;
  std::int64_t runs = 0;
  std::optional<double> last_run;
};

inline std::vector<experiment_summary> list_experiments(database& db) {
  auto s = db.prepare(
      "SELECT e.name, e.created_at, COUNT(r.id), MAX(r.created_at) FROM experiments e "
      "LEFT JOIN runs r ON r.experiment = e.name GROUP BY e.name ORDER BY e.created_at, e.name");
  std::vector<experiment_summary> out;
  while (s.step()) out.push_back({s.text(0), s.real(1), s.integer(2), s.optional_real(3)});
  return out;
}

/// How long a driver on another host may go without a heartbeat before its run is stale. On
/// this host the driver's pid (and its start time, as pids are reused) answers at once.
inline constexpr double stale_after_seconds = 120;
inline constexpr auto heartbeat_interval = std::chrono::seconds(5);

/// Marks Failed every NotStarted or Running run whose driver is gone (killed with -9, or its
/// machine lost), and returns their ids.
inline std::vector<std::string> mark_stale_runs(database& db) {
  struct candidate {
    std::string id, host;
    std::optional<std::int64_t> pid, started;
    std::optional<double> heartbeat;
  };
  std::vector<candidate> open;
  {
    auto s = db.prepare(
        "SELECT id, host, driver_pid, driver_started, heartbeat_at FROM runs "
        "WHERE status IN ('NotStarted', 'Running') ORDER BY created_at, id");
    while (s.step())
      open.push_back(
          {s.text(0), s.text(1), s.optional_integer(2), s.optional_integer(3), s.optional_real(4)});
  }
  const std::string here = host_name();
  const double now = now_seconds();
  std::vector<std::string> stale;
  for (const auto& c : open) {
    std::string why;
    if (c.host == here && c.pid) {
      const int pid = static_cast<int>(*c.pid);
      const auto started = posix::process_start_ticks(pid);
      const bool same_process = posix::process_running(pid) && started &&
                                (!c.started || *c.started == 0 ||
                                 static_cast<std::uint64_t>(*c.started) == *started);
      if (!same_process)
        why = fmt::format("its driver (pid {} on {}) is gone: killed or crashed", pid, c.host);
    } else if (!c.heartbeat || now - *c.heartbeat > stale_after_seconds) {
      why = fmt::format("its driver on {} sent no heartbeat for {:.0f} s", c.host,
                        c.heartbeat ? now - *c.heartbeat : now);
    }
    if (why.empty()) continue;
    finish_run(db, c.id, run_status::failed, why + "; found stale when the workspace was opened");
    stale.push_back(c.id);
  }
  return stale;
}

}  // namespace trellis::workspace
