// Metric series in the workspace database: one value per run, name, rank and step, written in
// batches (one transaction each) and read back in step order.
#pragma once
#include <cmath>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "trellis/core/train/metric_record.hpp"
#include "trellis/workspace/sqlite.hpp"

namespace trellis::workspace {

/// A value as the trainer logs it (name, step, epoch, rank, value, time).
using metric_point = core::metric_record;

/// Writes `points` for `run_id` in one transaction; a point logged again (same name, rank and
/// step, e.g. by a resumed run) replaces the earlier one, so each appears once.
inline void put_metrics(database& db, const std::string& run_id,
                        std::span<const metric_point> points) {
  if (points.empty()) return;
  transaction t{db};
  auto s = db.prepare(
      "INSERT INTO metrics(run_id, name, step, epoch, rank, value, time) "
      "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(run_id, name, rank, step) DO UPDATE SET "
      "epoch = excluded.epoch, value = excluded.value, time = excluded.time");
  for (const auto& p : points) {
    s.bind_all(run_id, p.name, p.step, p.epoch, p.rank,
               std::isfinite(p.value) ? std::optional{p.value} : std::nullopt, p.time);
    s.run();
    s.reset();
  }
  t.commit();
}

/// Forgets a run's metrics (before its metrics file is read again from the start).
inline void clear_metrics(database& db, const std::string& run_id) {
  db.prepare("DELETE FROM metrics WHERE run_id = ?").bind_all(run_id).run();
}

/// A run's metrics in step order (then name, then rank), all of them or those named `name`.
inline std::vector<metric_point> read_metrics(database& db, const std::string& run_id,
                                              const std::optional<std::string>& name = {}) {
  auto s = db.prepare(
      "SELECT name, step, epoch, rank, value, time FROM metrics "
      "WHERE run_id = ?1 AND (?2 IS NULL OR name = ?2) ORDER BY step, name, rank");
  s.bind_all(run_id, name);
  std::vector<metric_point> out;
  while (s.step())
    out.push_back({s.text(0), s.integer(1), s.integer(2), s.integer(3),
                   s.optional_real(4).value_or(std::nan("")), s.real(5)});
  return out;
}

/// The last value logged for each of the run's metrics by rank 0 (the job's final metrics).
inline std::vector<metric_point> final_metrics(database& db, const std::string& run_id) {
  auto s = db.prepare(
      "SELECT name, step, epoch, rank, value, time FROM metrics m WHERE run_id = ?1 AND rank = 0 "
      "AND step = (SELECT MAX(step) FROM metrics WHERE run_id = ?1 AND name = m.name AND rank = 0) "
      "ORDER BY name");
  s.bind_all(run_id);
  std::vector<metric_point> out;
  while (s.step())
    out.push_back({s.text(0), s.integer(1), s.integer(2), s.integer(3),
                   s.optional_real(4).value_or(std::nan("")), s.real(5)});
  return out;
}

}  // namespace trellis::workspace
