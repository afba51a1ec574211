// The model registry: models/<name>/<version>/ folders with the files and model.json, indexed by
// the workspace database. A registration is one transaction under the database's write lock:
// files are staged and hashed first, and the version exists once its row is committed, so a
// crash at any point leaves a complete version or none, and concurrent registrations of one name
// get consecutive versions. Every file read back is checked against its recorded SHA-256.
#pragma once
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trellis/posix/process_info.hpp"
#include "trellis/rules/names.hpp"
#include "trellis/workspace/crash_point.hpp"
#include "trellis/workspace/error.hpp"
#include "trellis/workspace/model_card.hpp"
#include "trellis/workspace/runs.hpp"
#include "trellis/workspace/sha256.hpp"
#include "trellis/workspace/sqlite.hpp"

namespace trellis::workspace {

namespace fs = std::filesystem;

/// What a caller registers: the card's fields but version, time and hashes, and the files.
struct registration {
  std::string name;
  std::string description;
  std::map<std::string, std::string> tags;
  architecture arch;
  std::map<std::string, double> metrics;
  std::optional<std::string> run_id;
  std::optional<std::string> dataset_fingerprint;
  std::optional<model_ref> parent;
  /// (name in the version folder, file to copy); the first is the state dict, "model.pt".
  std::vector<std::pair<std::string, fs::path>> files;
  nlohmann::json details = nlohmann::json::object();
};

inline fs::path model_folder(const fs::path& root, const std::string& name) {
  return root / "models" / name;
}
inline fs::path version_folder(const fs::path& root, const model_ref& ref) {
  return model_folder(root, ref.name) / std::to_string(ref.version);
}

namespace detail {
/// Flushes a file or folder to disk, so that a rename after it publishes complete data.
inline void sync_path(const fs::path& p) {
  const int fd = ::open(p.c_str(), O_RDONLY);
  if (fd < 0 || ::fsync(fd) != 0) {
    const int err = errno;
    if (fd >= 0) ::close(fd);
    throw registry_error(
        fmt::format("cannot flush '{}' to disk: {}", p.string(), std::strerror(err)));
  }
  ::close(fd);
}

inline void write_text(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush()) throw registry_error(fmt::format("cannot write '{}'", file.string()));
}

/// Staging folders are named .staging-<pid>-<start ticks>-<random>; those of processes that are
/// gone are leftovers of a crash and go.
inline void remove_dead_staging(const fs::path& folder) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    const std::string n = entry.path().filename().string();
    int pid = 0;
    unsigned long long ticks = 0;
    if (std::sscanf(n.c_str(), ".staging-%d-%llu-", &pid, &ticks) != 2) continue;
    const auto started = posix::process_start_ticks(pid);
    if (!posix::process_running(pid) || !started || *started != ticks)
      fs::remove_all(entry.path(), ec);
  }
}

inline constexpr const char* card_query =
    "SELECT metadata_json FROM model_versions WHERE name = ?1 AND "
    "version = COALESCE(?2, (SELECT MAX(version) FROM model_versions WHERE name = ?1))";
}  // namespace detail

/// Registers `r` as the next version of its name and returns its card.
inline model_card register_model(database& db, const fs::path& root, const registration& r) {
  if (!rules::detail::is_asset_name(text_view{r.name.data(), r.name.size()}))
    throw registry_error(fmt::format(
        "model name '{}': names are 1-255 letters, digits, '-' or '_', starting with a letter or "
        "digit",
        r.name));
  if (r.files.empty() || r.files.front().first != "model.pt")
    throw registry_error(fmt::format("model '{}': a version needs its model.pt first", r.name));
  const fs::path folder = model_folder(root, r.name);
  fs::create_directories(folder);
  detail::remove_dead_staging(folder);

  // Stage: copy and hash every file outside the lock; this is the slow part.
  const int pid = static_cast<int>(::getpid());
  const fs::path staging =
      folder / fmt::format(".staging-{}-{}-{:08x}", pid,
                           posix::process_start_ticks(pid).value_or(0),
                           std::random_device{}());
  fs::create_directories(staging);
  struct cleanup {  // a failed registration leaves no staging folder behind
    fs::path path;
    ~cleanup() {
      std::error_code ec;
      if (!path.empty()) fs::remove_all(path, ec);
    }
  } remove_staging{staging};

  model_card card;
  card.name = r.name;
  card.description = r.description;
  card.tags = r.tags;
  card.arch = r.arch;
  card.metrics = r.metrics;
  card.run_id = r.run_id;
  card.dataset_fingerprint = r.dataset_fingerprint;
  card.parent = r.parent;
  card.details = r.details;
  for (const auto& [name, source] : r.files) {
    const fs::path target = staging / name;
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    fs::copy_file(source, target, ec);
    if (ec)
      throw registry_error(fmt::format("model '{}': cannot copy '{}' into the registry: {}",
                                       r.name, source.string(), ec.message()));
    detail::sync_path(target);
    card.files.push_back({name, sha256_of_file(target), fs::file_size(target)});
  }
  crash_point("registry.staged");

  transaction t{db};  // the write lock: one registration at a time per workspace
  {
    auto s = db.prepare("SELECT COALESCE(MAX(version), 0) FROM model_versions WHERE name = ?");
    s.bind_all(r.name);
    s.step();
    card.version = s.integer(0) + 1;
  }
  if (card.parent) {
    auto s = db.prepare("SELECT 1 FROM model_versions WHERE name = ? AND version = ?");
    s.bind_all(card.parent->name, card.parent->version);
    if (!s.step())
      throw registry_error(fmt::format("model '{}': its parent {} is not registered", r.name,
                                       card.parent->text()));
  }
  card.created_at = now_seconds();
  const std::string json = to_json(card).dump(2) + "\n";
  detail::write_text(staging / "model.json", json);
  detail::sync_path(staging / "model.json");
  crash_point("registry.described");

  db.prepare("INSERT OR IGNORE INTO models(name, created_at) VALUES (?, ?)")
      .bind_all(r.name, card.created_at)
      .run();
  db.prepare(
        "INSERT INTO model_versions(name, version, created_at, run_id, description, model_type, "
        "classes, input_channels, input_height, input_width, dataset_fingerprint, parent_name, "
        "parent_version, metadata_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
      .bind_all(card.name, card.version, card.created_at, card.run_id, card.description,
                card.arch.model, card.arch.classes, card.arch.channels, card.arch.height,
                card.arch.width, card.dataset_fingerprint,
                card.parent ? std::optional{card.parent->name} : std::nullopt,
                card.parent ? std::optional{card.parent->version} : std::nullopt, json)
      .run();
  for (const auto& [key, value] : card.tags)
    db.prepare("INSERT INTO model_tags(name, version, key, value) VALUES (?, ?, ?, ?)")
        .bind_all(card.name, card.version, key, value)
        .run();
  for (const auto& f : card.files)
    db.prepare("INSERT INTO model_files(name, version, path, sha256, size) VALUES (?, ?, ?, ?, ?)")
        .bind_all(card.name, card.version, f.path, f.sha256, f.size)
        .run();
  crash_point("registry.inserted");

  // A folder of this number without a row is what a crash between rename and commit left.
  const fs::path target = version_folder(root, card.ref());
  std::error_code ec;
  fs::remove_all(target, ec);
  fs::rename(staging, target, ec);
  if (ec)
    throw registry_error(fmt::format("model '{}': cannot move version {} into '{}': {}", r.name,
                                     card.version, target.string(), ec.message()));
  remove_staging.path.clear();
  detail::sync_path(folder);
  crash_point("registry.renamed");
  try {
    t.commit();
  } catch (...) {
    fs::remove_all(target, ec);  // rolled back: the version does not exist
    throw;
  }
  crash_point("registry.committed");
  return card;
}

/// The card of a version, or of the latest when `version` is empty; nullopt when none.
inline std::optional<model_card> find_model_version(database& db, const std::string& name,
                                                    std::optional<std::int64_t> version = {}) {
  auto s = db.prepare(detail::card_query);
  s.bind_all(name, version);
  if (!s.step()) return std::nullopt;
  return card_from_json(nlohmann::json::parse(s.text(0)),
                        fmt::format("the registry's record of {}", name));
}

/// Like find_model_version, but a missing model or version is an error that says what exists.
inline model_card get_model_version(database& db, const std::string& name,
                                    std::optional<std::int64_t> version = {}) {
  if (auto card = find_model_version(db, name, version)) return *card;
  auto s = db.prepare("SELECT MAX(version) FROM model_versions WHERE name = ?");
  s.bind_all(name);
  s.step();
  if (s.is_null(0))
    throw model_not_found(fmt::format("no model '{}' is registered in '{}'", name,
                                     fs::path{db.file()}.parent_path().string()));
  throw model_not_found(fmt::format("model '{}' has no version {} (its versions are 1 to {})", name,
                                   *version, s.integer(0)));
}

struct model_summary {
  std::string name;
  std::int64_t versions = 0;
  std::int64_t latest = 0;
  double updated_at = 0;
};

inline std::vector<model_summary> list_models(database& db) {
  auto s = db.prepare(
      "SELECT name, COUNT(*), MAX(version), MAX(created_at) FROM model_versions GROUP BY name "
      "ORDER BY name");
  std::vector<model_summary> out;
  while (s.step()) out.push_back({s.text(0), s.integer(1), s.integer(2), s.real(3)});
  return out;
}

/// Every version of a model, oldest first.
inline std::vector<model_card> list_versions(database& db, const std::string& name) {
  auto s = db.prepare("SELECT metadata_json FROM model_versions WHERE name = ? ORDER BY version");
  s.bind_all(name);
  std::vector<model_card> out;
  while (s.step())
    out.push_back(card_from_json(nlohmann::json::parse(s.text(0)), "the registry"));
  return out;
}

/// The path of one of a version's files after checking its size and SHA-256 against the
/// registry's record: a file changed after registration is refused, never loaded.
inline fs::path verified_file(const fs::path& root, const model_card& card,
                              const std::string& path = "model.pt") {
  const artifact* a = card.file(path);
  if (!a)
    throw registry_error(fmt::format("model {} has no file '{}'", card.ref().text(), path));
  const fs::path file = version_folder(root, card.ref()) / a->path;
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (ec)
    throw registry_error(fmt::format("model {}: its file '{}' is missing: {}", card.ref().text(),
                                     file.string(), ec.message()));
  const std::string digest = size == a->size ? sha256_of_file(file) : std::string{};
  if (size != a->size || digest != a->sha256)
    throw registry_error(fmt::format(
        "model {}: '{}' was changed after it was registered ({} bytes, SHA-256 {}; the registry "
        "recorded {} bytes, SHA-256 {}); refusing to use it. Fix: register the model again",
        card.ref().text(), file.string(), size, digest.empty() ? "not computed" : digest, a->size,
        a->sha256));
  return file;
}

/// Copies every file of a version, each verified, and its model.json into `dir`.
inline std::vector<fs::path> download_model(const fs::path& root, const model_card& card,
                                            const fs::path& dir) {
  fs::create_directories(dir);
  std::vector<fs::path> written;
  for (const auto& a : card.files) {
    const fs::path target = dir / a.path;
    fs::create_directories(target.parent_path());
    fs::copy_file(verified_file(root, card, a.path), target,
                  fs::copy_options::overwrite_existing);
    written.push_back(target);
  }
  detail::write_text(dir / "model.json", to_json(card).dump(2) + "\n");
  written.push_back(dir / "model.json");
  return written;
}

}  // namespace trellis::workspace
