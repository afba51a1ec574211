// run_report: a run's results page (report/run_page.hpp) filled from what the workspace holds:
// learning curves from its metrics (each epoch's last value from rank 0), the test split's
// confusion matrix and final metrics from outputs/summary.json, the rank map from its plan with
// each rank's mean throughput, and its lineage from the registry.
#pragma once
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trellis/report/comparison_page.hpp"
#include "trellis/report/run_page.hpp"
#include "trellis/workspace/metrics.hpp"
#include "trellis/workspace/register_run.hpp"
#include "trellis/workspace/registry.hpp"
#include "trellis/workspace/run_record.hpp"

namespace trellis::workspace {

namespace detail {
/// Each epoch's last value of `name` from rank 0, as a curve over epochs.
inline report::series epoch_curve(const std::vector<metric_point>& points,
                                  const std::string& name) {
  std::map<std::int64_t, double> last;
  for (const auto& p : points)
    if (p.rank == 0 && p.name == name) last[p.epoch] = p.value;  // points come in step order
  report::series s{name, {}};
  for (const auto& [epoch, value] : last) s.points.push_back({static_cast<double>(epoch), value});
  return s;
}

inline nlohmann::json read_json_file(const std::filesystem::path& file) {
  std::ifstream in(file);
  return in ? nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false) : nlohmann::json{};
}
}  // namespace detail

inline report::run_summary run_report(database& db, const run_record& r) {
  report::run_summary s;
  s.run_id = r.id;
  s.experiment = r.experiment;
  s.description = fmt::format("{} run on {}, {}", r.backend, r.origin.host, name_of(r.status));
  const auto points = read_metrics(db, r.id);
  s.loss = {detail::epoch_curve(points, "train_loss"), detail::epoch_curve(points, "val_loss")};
  s.accuracy = {detail::epoch_curve(points, "train_accuracy"),
                detail::epoch_curve(points, "val_accuracy")};

  const auto summary = detail::read_json_file(r.folder / "outputs" / "summary.json");
  if (summary.is_object()) {
    s.final_metrics = summary_metrics(summary);
    if (summary.contains("selected_epoch"))
      s.final_metrics["selected_epoch"] = summary["selected_epoch"].get<double>();
    if (const auto confusion = summary.find("test_confusion"); confusion != summary.end()) {
      s.test_confusion.class_names = (*confusion)["classes"].get<std::vector<std::string>>();
      s.test_confusion.counts =
          (*confusion)["counts"].get<std::vector<std::vector<std::int64_t>>>();
    }
  }

  std::map<std::int64_t, std::pair<double, int>> throughput;  // rank: sum, count
  for (const auto& p : points)
    if (p.name == "rank_images_per_s" && std::isfinite(p.value)) {
      throughput[p.rank].first += p.value;
      ++throughput[p.rank].second;
    }
  const auto plan = nlohmann::json::parse(r.plan_json, nullptr, /*allow_exceptions=*/false);
  if (plan.is_object() && plan.contains("ranks"))
    for (const auto& rank : plan["ranks"]) {
      const auto g = rank["global_rank"].get<std::int64_t>();
      const auto t = throughput.find(g);
      s.ranks.push_back({static_cast<int>(g),
                         fmt::format("node {} ({})", rank["node"].get<int>(), r.origin.host),
                         rank["local_rank"].get<int>(), rank["device"].get<std::string>(),
                         t == throughput.end() ? 0.0 : t->second.first / t->second.second});
    }

  auto registered = db.prepare("SELECT name, version FROM model_versions WHERE run_id = ? LIMIT 1");
  registered.bind_all(r.id);
  if (registered.step()) {
    const auto card = get_model_version(db, registered.text(0), registered.integer(1));
    s.lineage.registered = report::model_version{card.name, static_cast<int>(card.version)};
    if (card.parent) {
      s.lineage.parent =
          report::model_version{card.parent->name, static_cast<int>(card.parent->version)};
      const auto parent = find_model_version(db, card.parent->name, card.parent->version);
      if (parent && parent->run_id) s.lineage.parent_run_id = *parent->run_id;
    }
  }
  return s;
}

/// Writes <run folder>/results.html and returns its path.
inline std::filesystem::path write_results_page(database& db, const run_record& r) {
  return report::write_run_page(run_report(db, r), r.folder);
}

}  // namespace trellis::workspace
