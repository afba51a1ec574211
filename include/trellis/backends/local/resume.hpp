// --resume RUN_ID: a failed or interrupted local run continued from its last checkpoint. It
// becomes a new run that records which one it resumes (resumed_from): a run is the record of one
// execution, with its own start, end, status, provenance and metrics, so the one that failed
// stays Failed and says why. The new run takes the old one's recorded settings (the command line
// may change only where and how it runs), its checkpoints and the metrics of the epochs they
// hold; the ranks then resume after the last checkpointed epoch.
#pragma once
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trellis/cli/settings.hpp"
#include "trellis/core/train/run_files.hpp"
#include "trellis/plan/run_plan.hpp"
#include "trellis/workspace/workspace.hpp"

namespace trellis::backends::local {

/// What --set may change on a resumed run: where and how it runs, never what it trains.
inline constexpr std::string_view resumable_overrides[] = {
    "distributed.master_addr", "distributed.master_port", "distributed.timeout_s",
    "dataset.workers", "dataset.prefetch"};

/// The run to resume: a local run of this workspace that failed or was interrupted and that no
/// other run resumed yet. Otherwise a usage error saying what to do instead.
inline workspace::run_record resumable_run(workspace::workspace& w, const std::string& id) {
  const auto run = workspace::find_run(w.db(), w.root(), id);
  if (!run)
    throw cli::usage_error(
        fmt::format("--resume {}: no run '{}' in the workspace {} (see: trellis runs list)", id, id,
                    w.root().string()));
  const auto status = std::string{workspace::name_of(run->status)};
  if (run->backend != plan::name_of(plan::backend_kind::local))
    throw cli::usage_error(fmt::format(
        "--resume {}: it ran on the {} backend; only local runs resume here", id, run->backend));
  if (run->status == workspace::run_status::completed)
    throw cli::usage_error(
        fmt::format("--resume {}: it completed; there is nothing to resume", id));
  if (!run->finished())
    throw cli::usage_error(
        fmt::format("--resume {}: it is {} (driver pid {}); stop it first, or wait", id, status,
                    run->driver_pid.value_or(0)));
  for (const auto& other : workspace::list_runs(w.db(), w.root()))
    if (other.resumed_from == id)
      throw cli::usage_error(
          fmt::format("--resume {}: run {} resumed it already ({}); resume {} instead", id,
                      other.id, workspace::name_of(other.status), other.id));
  if (!std::filesystem::is_directory(run->folder))
    throw cli::usage_error(
        fmt::format("--resume {}: its folder {} is gone", id, run->folder.string()));
  return *run;
}

namespace detail {
/// A recorded setting's value as --set reads it.
inline std::string setting_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array() || v.is_object()) {
    std::string out;
    for (auto it = v.begin(); it != v.end(); ++it)
      out += (out.empty() ? "" : ",") + (v.is_object() ? it.key() + ":" : "") + setting_text(*it);
    return out;
  }
  return v.dump();  // numbers (shortest text that reads back the same) and true/false
}
}  // namespace detail

/// The resumed run's recorded settings as stage.field=value, then the command line's own --set,
/// which may change only resumable_overrides.
inline std::vector<std::string> resumed_settings(const workspace::run_record& run,
                                                 const std::vector<std::string>& own) {
  for (const auto& s : own) {
    const auto key = std::string_view{s}.substr(0, s.find('='));
    if (std::find(std::begin(resumable_overrides), std::end(resumable_overrides), key) ==
        std::end(resumable_overrides)) {
      std::string allowed;
      for (const auto name : resumable_overrides)
        allowed += (allowed.empty() ? "" : ", ") + std::string{name};
      throw cli::usage_error(fmt::format(
          "--set {} with --resume {}: a resumed run keeps the settings it was started with; "
          "--set may change only where it runs ({}). Start a new run to change {}",
          s, run.id, allowed, key));
    }
  }
  std::vector<std::string> out;
  const auto recorded = nlohmann::json::parse(run.settings_json);
  for (const auto& [stage, fields] : recorded.items())
    for (const auto& [field, value] : fields.items())
      if (!value.is_null()) out.push_back(stage + "." + field + "=" + detail::setting_text(value));
  out.insert(out.end(), own.begin(), own.end());
  return out;
}

/// Throws unless the two plans have the same stages with the same compile-time values: a run
/// resumes only in the program that started it.
inline void check_same_stages(const workspace::run_record& run, const std::string& plan_json) {
  const auto before = nlohmann::json::parse(run.plan_json).at("stages");
  const auto now = nlohmann::json::parse(plan_json).at("stages");
  for (std::size_t i = 0; i < std::max(before.size(), now.size()); ++i) {
    const auto name = [&](const nlohmann::json& stages) {
      return i < stages.size() ? stages[i].at("stage").get<std::string>() : std::string{"(none)"};
    };
    if (name(before) != name(now))
      throw cli::usage_error(
          fmt::format("--resume {}: it ran another pipeline: stage {} was {}, is {}", run.id, i + 1,
                      name(before), name(now)));
    for (const auto& [field, value] : before[i].at("type").items())
      if (!now[i].at("type").contains(field) || now[i].at("type").at(field) != value)
        throw cli::usage_error(fmt::format(
            "--resume {}: it ran another pipeline: {}'s {} was {}, this program has {}", run.id,
            name(now), field, value.dump(),
            now[i].at("type").contains(field) ? now[i].at("type").at(field).dump() : "none"));
  }
}

/// The resumed run's checkpoints and metrics, into the new run's folder (hard links where the
/// file system allows: both are only ever replaced, never written in place).
inline bool carry_over(const std::filesystem::path& from, const std::filesystem::path& to) {
  namespace fs = std::filesystem;
  const core::run_files old_files{from}, new_files{to};
  for (const auto& [source, target] : {std::pair{old_files.last, new_files.last},
                                       std::pair{old_files.best, new_files.best},
                                       std::pair{old_files.metrics, new_files.metrics}}) {
    if (!fs::exists(source)) continue;
    fs::create_directories(target.parent_path());
    std::error_code linked;
    fs::create_hard_link(source, target, linked);
    if (linked) fs::copy_file(source, target, fs::copy_options::overwrite_existing);
  }
  return fs::exists(new_files.last);
}

}  // namespace trellis::backends::local
