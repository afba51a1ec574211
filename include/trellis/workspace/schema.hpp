// The workspace database's schema as numbered migrations: PRAGMA user_version is the number of
// migrations applied, each one runs in its own transaction, and a database from a newer trellis
// (a version past the last migration) is refused rather than misread.
#pragma once
#include <array>
#include <cstdint>
#include <string_view>

#include <fmt/format.h>

#include "trellis/workspace/sqlite.hpp"

namespace trellis::workspace {

/// Migration i brings the schema from version i to i + 1. Never edit one that has shipped: a
/// workspace written by it must open and upgrade (tests/workspace keeps such a workspace).
inline constexpr std::array<std::string_view, 2> migrations = {
    // 1: experiments, runs with provenance, metric series, and the model registry.
    R"sql(
CREATE TABLE experiments (
  name TEXT PRIMARY KEY,
  created_at REAL NOT NULL
);
CREATE TABLE runs (
  id TEXT PRIMARY KEY,                -- also the run folder's name: runs/<id>
  experiment TEXT NOT NULL REFERENCES experiments(name),
  status TEXT NOT NULL
    CHECK (status IN ('NotStarted', 'Running', 'Completed', 'Failed', 'Canceled')),
  backend TEXT NOT NULL,
  created_at REAL NOT NULL,
  start_time REAL,
  end_time REAL,
  folder TEXT NOT NULL,               -- relative to the workspace
  plan_json TEXT NOT NULL,
  settings_json TEXT NOT NULL,        -- the run-time fields after --set, by stage
  host TEXT NOT NULL,
  driver_pid INTEGER,
  driver_started INTEGER,             -- the pid's start time in clock ticks: pids get reused
  heartbeat_at REAL,
  git_commit TEXT,
  git_dirty INTEGER,
  torch_version TEXT,
  cuda_version TEXT,
  nccl_version TEXT,
  failure_reason TEXT,
  failing_rank INTEGER
);
CREATE INDEX runs_by_experiment ON runs(experiment, created_at);
CREATE TABLE run_tags (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
);
CREATE TABLE metrics (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  step INTEGER NOT NULL,
  epoch INTEGER NOT NULL,
  rank INTEGER NOT NULL,              -- the rank that measured it: 0 for the job's own values
  value REAL,                         -- NULL: not finite
  time REAL NOT NULL,
  PRIMARY KEY (run_id, name, rank, step)
) WITHOUT ROWID;
CREATE TABLE models (
  name TEXT PRIMARY KEY,
  created_at REAL NOT NULL
);
CREATE TABLE model_versions (
  name TEXT NOT NULL REFERENCES models(name),
  version INTEGER NOT NULL,
  created_at REAL NOT NULL,
  run_id TEXT REFERENCES runs(id),
  description TEXT NOT NULL,
  model_type TEXT NOT NULL,
  classes INTEGER NOT NULL,
  input_channels INTEGER NOT NULL,
  input_height INTEGER NOT NULL,      -- 0: any size
  input_width INTEGER NOT NULL,
  dataset_fingerprint TEXT,
  parent_name TEXT,
  parent_version INTEGER,
  metadata_json TEXT NOT NULL,        -- the same document as the version folder's model.json
  PRIMARY KEY (name, version),
  FOREIGN KEY (parent_name, parent_version) REFERENCES model_versions(name, version)
);
CREATE TABLE model_tags (
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (name, version, key),
  FOREIGN KEY (name, version) REFERENCES model_versions(name, version)
);
CREATE TABLE model_files (
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  path TEXT NOT NULL,                 -- relative to the version folder
  sha256 TEXT NOT NULL,
  size INTEGER NOT NULL,
  PRIMARY KEY (name, version, path),
  FOREIGN KEY (name, version) REFERENCES model_versions(name, version)
);
)sql",
    // 2: where a run lives outside this workspace (an Azure ML job's page), and the run that a
    // resumed run continues.
    R"sql(
ALTER TABLE runs ADD COLUMN external_link TEXT;
ALTER TABLE runs ADD COLUMN resumed_from TEXT REFERENCES runs(id);
)sql",
};

inline constexpr std::int64_t schema_version = migrations.size();

/// The database's schema version (0 for a new file).
inline std::int64_t user_version(database& db) {
  auto s = db.prepare("PRAGMA user_version");
  s.step();
  return s.integer(0);
}

/// Applies the migrations the database lacks, each atomically with its version number.
inline void migrate(database& db) {
  for (;;) {
    transaction t{db};
    const std::int64_t at = user_version(db);  // read under the write lock: one migrator wins
    if (at > schema_version)
      throw database_error(fmt::format(
          "workspace database '{}' has schema version {}, newer than this trellis knows ({}); "
          "use a newer trellis",
          db.file(), at, schema_version));
    if (at == schema_version) return;
    db.exec(migrations[static_cast<std::size_t>(at)]);
    db.exec(fmt::format("PRAGMA user_version = {}", at + 1));
    t.commit();
  }
}

}  // namespace trellis::workspace
