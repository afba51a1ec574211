// `trellis runs list|show|logs|metrics` and `trellis experiments list`: the run history of a
// workspace, as aligned tables or, with --json, as JSON.
#pragma once
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "arguments.hpp"
#include "table.hpp"
#include "text.hpp"
#include "trellis/workspace/run_report.hpp"
#include "trellis/workspace/workspace.hpp"

namespace trellis::tool {

namespace ws = trellis::workspace;

namespace detail {
inline std::optional<double> run_duration(const ws::run_record& r) {
  if (!r.start_time) return std::nullopt;
  return r.end_time.value_or(ws::now_seconds()) - *r.start_time;
}

inline nlohmann::json optional_json(const auto& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

inline nlohmann::json metric_value_json(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

/// The best val_accuracy rank 0 logged, if any.
inline std::optional<double> best_val_accuracy(ws::database& db, const std::string& run) {
  std::optional<double> best;
  for (const auto& p : ws::read_metrics(db, run, std::string{"val_accuracy"}))
    if (p.rank == 0 && std::isfinite(p.value) && (!best || p.value > *best)) best = p.value;
  return best;
}

/// The model versions a run registered.
inline std::vector<std::string> models_of_run(ws::database& db, const std::string& run) {
  auto s = db.prepare("SELECT name, version FROM model_versions WHERE run_id = ? ORDER BY name");
  s.bind_all(run);
  std::vector<std::string> out;
  while (s.step()) out.push_back(fmt::format("{}:{}", s.text(0), s.integer(1)));
  return out;
}

inline ws::run_record require_run(ws::workspace& w, const std::string& id) {
  if (auto r = ws::find_run(w.db(), w.root(), id)) return *r;
  throw ws::workspace_error(fmt::format(
      "no run '{}' in the workspace '{}' (trellis runs list shows them)", id, w.root().string()));
}
}  // namespace detail

inline nlohmann::json run_json(ws::workspace& w, const ws::run_record& r) {
  return {{"id", r.id},
          {"experiment", r.experiment},
          {"status", ws::name_of(r.status)},
          {"backend", r.backend},
          {"created_at", r.created_at},
          {"start_time", detail::optional_json(r.start_time)},
          {"end_time", detail::optional_json(r.end_time)},
          {"folder", r.folder.string()},
          {"host", r.origin.host},
          {"git_commit", detail::optional_json(r.origin.git_commit)},
          {"git_dirty", detail::optional_json(r.origin.git_dirty)},
          {"torch_version", r.origin.torch_version},
          {"cuda_version", r.origin.cuda_version},
          {"nccl_version", r.origin.nccl_version},
          {"tags", r.tags},
          {"failure_reason", detail::optional_json(r.failure_reason)},
          {"failing_rank", detail::optional_json(r.failing_rank)},
          {"external_link", detail::optional_json(r.external_link)},
          {"resumed_from", detail::optional_json(r.resumed_from)},
          {"models", detail::models_of_run(w.db(), r.id)},
          {"best_val_accuracy", detail::optional_json(detail::best_val_accuracy(w.db(), r.id))}};
}

inline int experiments_list(ws::workspace& w, const arguments& a) {
  a.allow({"json"}, {});
  const auto experiments = ws::list_experiments(w.db());
  if (a.flag("json")) {
    auto out = nlohmann::json::array();
    for (const auto& e : experiments)
      out.push_back({{"name", e.name},
                     {"created_at", e.created_at},
                     {"runs", e.runs},
                     {"last_run", detail::optional_json(e.last_run)}});
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  table t({{"EXPERIMENT", false, true}, {"RUNS", true}, {"CREATED"}, {"LAST RUN"}});
  for (const auto& e : experiments)
    t.add({e.name, std::to_string(e.runs), time_text(e.created_at, true),
           time_text(e.last_run, true)});
  std::cout << (t.empty() ? "no experiments yet\n" : t.render());
  return 0;
}

inline int runs_list(ws::workspace& w, const arguments& a) {
  a.allow({"json"}, {"experiment"});
  const auto runs = ws::list_runs(w.db(), w.root(), a.value("experiment"));
  if (a.flag("json")) {
    auto out = nlohmann::json::array();
    for (const auto& r : runs) out.push_back(run_json(w, r));
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  table t({{"RUN", false, true},
           {"STATUS"},
           {"STARTED"},
           {"DURATION", true},
           {"BACKEND"},
           {"VAL_ACC", true},
           {"MODELS", false, true}});
  for (const auto& r : runs) {
    const auto best = detail::best_val_accuracy(w.db(), r.id);
    std::string models;
    for (const auto& m : detail::models_of_run(w.db(), r.id))
      models += (models.empty() ? "" : " ") + m;
    t.add({r.id, std::string{ws::name_of(r.status)},
           time_text(r.start_time.value_or(r.created_at), true),
           duration_text(detail::run_duration(r)), r.backend,
           best ? fmt::format("{:.4f}", *best) : "-", models.empty() ? "-" : models});
  }
  std::cout << (t.empty() ? "no runs yet\n" : t.render());
  return 0;
}

inline int runs_show(ws::workspace& w, const arguments& a) {
  a.allow({"json", "open"}, {});
  const auto r = detail::require_run(w, a.operand(2, "RUN (see trellis runs list)"));
  const auto final_metrics = ws::final_metrics(w.db(), r.id);
  // --open (re)writes the results page from the workspace, and says where it is.
  const auto page = a.flag("open") ? ws::write_results_page(w.db(), r) : r.folder / "results.html";
  if (a.flag("json")) {
    auto out = run_json(w, r);
    out["results_page"] = std::filesystem::exists(page) ? nlohmann::json(page.string()) : nullptr;
    out["plan"] = nlohmann::json::parse(r.plan_json, nullptr, false);
    out["settings"] = nlohmann::json::parse(r.settings_json, nullptr, false);
    nlohmann::json metrics = nlohmann::json::object();
    for (const auto& m : final_metrics) metrics[m.name] = detail::metric_value_json(m.value);
    out["final_metrics"] = metrics;
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  auto field = [](std::string_view name, const std::string& value) {
    std::cout << fmt::format("{:<13}{}\n", name, value);
  };
  field("run", r.id);
  field("experiment", r.experiment);
  field("status", std::string{ws::name_of(r.status)});
  if (r.failure_reason)
    field("failure", *r.failure_reason +
                         (r.failing_rank ? fmt::format(" (rank {})", *r.failing_rank) : ""));
  field("backend", r.backend);
  if (r.external_link) field("link", *r.external_link);
  if (r.resumed_from) field("resumes", *r.resumed_from);
  field("started", fmt::format("{}, for {}", time_text(r.start_time),
                               duration_text(detail::run_duration(r))));
  field("folder", r.folder.string());
  field("source", r.origin.git_commit ? fmt::format("git {}{}", r.origin.git_commit->substr(0, 12),
                                                    r.origin.git_dirty.value_or(false)
                                                        ? " with uncommitted changes"
                                                        : "")
                                      : "not a git checkout");
  field("libraries", fmt::format("LibTorch {}, CUDA {}, NCCL {}", r.origin.torch_version,
                                 r.origin.cuda_version, r.origin.nccl_version));
  field("host", r.origin.host);
  std::string tags;
  for (const auto& [k, v] : r.tags) tags += fmt::format("{}{}={}", tags.empty() ? "" : ", ", k, v);
  if (!tags.empty()) field("tags", tags);
  std::size_t name_width = 0;
  for (const auto& m : final_metrics) name_width = std::max(name_width, m.name.size() + 2);
  for (const auto& m : final_metrics)
    field(m.name == final_metrics.front().name ? "metrics" : "",
          fmt::format("{:<{}}{} (epoch {}, step {})", m.name, name_width, value_text(m.value),
                      m.epoch, m.step));
  std::string models;
  for (const auto& m : detail::models_of_run(w.db(), r.id))
    models += (models.empty() ? "" : ", ") + m;
  if (!models.empty()) field("models", models);
  field("logs", (r.folder / "logs").string());
  if (std::filesystem::exists(page)) field("results", page.string());
  return 0;
}

inline int runs_logs(ws::workspace& w, const arguments& a) {
  a.allow({"follow"}, {"rank"});
  const auto r = detail::require_run(w, a.operand(2, "RUN (see trellis runs list)"));
  const long long rank = whole_number(a.value("rank").value_or("0"), "rank");
  const auto log = r.folder / "logs" / fmt::format("rank_{}.log", rank);
  if (!std::filesystem::exists(log) && !a.flag("follow"))
    throw ws::workspace_error(fmt::format("run {} has no log for rank {} ('{}')", r.id, rank,
                                          log.string()));
  std::ifstream in;
  std::streamoff offset = 0;
  for (;;) {
    if (!in.is_open()) in.open(log, std::ios::binary);
    if (in.is_open()) {
      in.clear();
      in.seekg(offset);
      char buffer[1 << 14];
      while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
        std::cout.write(buffer, in.gcount());
        offset += in.gcount();
      }
      std::cout.flush();
    }
    if (!a.flag("follow")) return 0;
    // Follow until the run has ended and everything it wrote is out.
    if (ws::find_run(w.db(), w.root(), r.id)->finished()) {
      if (in.is_open()) {
        in.clear();
        in.seekg(offset);
        std::cout << in.rdbuf();
      }
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

inline int runs_metrics(ws::workspace& w, const arguments& a) {
  a.allow({"json"}, {"name"});
  const auto r = detail::require_run(w, a.operand(2, "RUN (see trellis runs list)"));
  const auto points = ws::read_metrics(w.db(), r.id, a.value("name"));
  if (a.flag("json")) {
    auto out = nlohmann::json::array();
    for (const auto& p : points)
      out.push_back({{"name", p.name},
                     {"step", p.step},
                     {"epoch", p.epoch},
                     {"rank", p.rank},
                     {"value", detail::metric_value_json(p.value)},
                     {"time", p.time}});
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  if (a.value("name")) {  // one series, every point
    table t({{"STEP", true}, {"EPOCH", true}, {"RANK", true}, {"VALUE", true}, {"TIME"}});
    for (const auto& p : points)
      t.add({std::to_string(p.step), std::to_string(p.epoch), std::to_string(p.rank),
             value_text(p.value), time_text(p.time, true)});
    std::cout << (t.empty() ? fmt::format("run {} logged no metric '{}'\n", r.id, *a.value("name"))
                            : t.render());
    return 0;
  }
  // One row per epoch: each of rank 0's metrics as it stood at the epoch's end; the test split's,
  // measured once on the selected model, below.
  const std::vector<std::string> preferred{"train_loss", "train_accuracy", "val_loss",
                                           "val_accuracy", "lr"};
  const std::vector<std::string> once{"test_loss", "test_accuracy"};
  std::set<std::string> logged;
  std::map<std::int64_t, std::map<std::string, ws::metric_point>> by_epoch;
  for (const auto& p : points)
    if (p.rank == 0) {
      logged.insert(p.name);
      by_epoch[p.epoch][p.name] = p;  // in step order: the last one stays
    }
  std::vector<std::string> names;
  for (const auto& n : preferred)
    if (logged.contains(n)) names.push_back(n);
  std::vector<column> columns{{"EPOCH", true}, {"STEP", true}};
  for (const auto& n : names) columns.push_back({n, true});
  table t(columns);
  for (const auto& [epoch, values] : by_epoch) {
    std::int64_t step = 0;
    for (const auto& [_, p] : values) step = std::max(step, p.step);
    std::vector<std::string> row{std::to_string(epoch), std::to_string(step)};
    for (const auto& n : names)
      row.push_back(values.contains(n) ? value_text(values.at(n).value) : "-");
    t.add(row);
  }
  std::cout << (t.empty() ? fmt::format("run {} has logged no metrics yet\n", r.id) : t.render());
  std::string tested;
  for (const auto& p : points)
    if (p.rank == 0 && std::find(once.begin(), once.end(), p.name) != once.end())
      tested += fmt::format("  {} {}", p.name, value_text(p.value));
  if (!tested.empty()) std::cout << fmt::format("test split, on the selected model:{}\n", tested);
  std::string others;
  for (const auto& n : logged)
    if (std::find(names.begin(), names.end(), n) == names.end() &&
        std::find(once.begin(), once.end(), n) == once.end())
      others += " " + n;
  if (!others.empty())
    std::cout << fmt::format("also logged:{} (trellis runs metrics {} --name NAME)\n", others,
                             r.id);
  return 0;
}

}  // namespace trellis::tool
