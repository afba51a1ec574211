// `trellis runs compare RUN... [--label=L]... [--page=FILE]` (an experiment's name standing for its
// latest completed run): runs side by side, such as transfer
// learning against the same training from scratch: validation accuracy per epoch, the epoch each
// first reached the last one's final value, and test accuracy; and a comparison page with links
// to each run's results page.
#pragma once
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "arguments.hpp"
#include "runs_command.hpp"
#include "table.hpp"
#include "text.hpp"
#include "trellis/workspace/run_report.hpp"
#include "trellis/workspace/workspace.hpp"

namespace trellis::tool {

/// A run by its id, or an experiment's latest completed run by the experiment's name.
inline ws::run_record run_or_latest(ws::workspace& w, const std::string& text) {
  if (auto r = ws::find_run(w.db(), w.root(), text)) return *r;
  const auto runs = ws::list_runs(w.db(), w.root(), text);
  for (auto r = runs.rbegin(); r != runs.rend(); ++r)
    if (r->status == ws::run_status::completed) return *r;
  throw ws::workspace_error(fmt::format(
      "'{}' is neither a run nor an experiment with a completed run in '{}' (trellis runs list)",
      text, w.root().string()));
}

inline int runs_compare(ws::workspace& w, const arguments& a) {
  a.allow({"json"}, {"label", "page"});
  std::vector<ws::run_record> runs;
  for (std::size_t i = 2; i < a.words().size(); ++i) runs.push_back(run_or_latest(w, a.words()[i]));
  if (runs.size() < 2) throw usage_error("runs compare needs two runs or more");
  auto labels = a.values("label");
  if (!labels.empty() && labels.size() != runs.size())
    throw usage_error(fmt::format("{} --label for {} runs", labels.size(), runs.size()));
  for (std::size_t i = labels.size(); i < runs.size(); ++i) labels.push_back(runs[i].id);

  const std::filesystem::path page =
      a.value("page").value_or((w.root() / "comparisons" /
                                fmt::format("{}-vs-{}.html", runs[0].id, runs[1].id)).string());
  report::comparison_summary c;
  c.title = "Runs compared";
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const auto summary = ws::run_report(w.db(), runs[i]);
    const auto results = ws::write_results_page(w.db(), runs[i]);
    std::error_code ec;
    const auto link =
        std::filesystem::relative(results, std::filesystem::absolute(page).parent_path(), ec);
    c.runs.push_back(report::compared(labels[i], summary, ec ? results.string() : link.string()));
  }
  c.description = "Validation accuracy per epoch, and each model's accuracy on the test split.";
  std::filesystem::create_directories(std::filesystem::absolute(page).parent_path());
  report::write_comparison_page(c, page);

  // The epoch by which each run first reached the weaker run's best validation accuracy.
  double target = INFINITY;
  for (const auto& r : c.runs) {
    double best = -INFINITY;
    for (const auto& p : r.val_accuracy.points) best = std::max(best, p.y);
    target = std::min(target, best);
  }
  auto reached = [&](const report::compared_run& r) -> std::optional<int> {
    for (const auto& p : r.val_accuracy.points)
      if (p.y >= target) return static_cast<int>(p.x);
    return std::nullopt;
  };
  if (a.flag("json")) {
    auto out = nlohmann::json::array();
    for (const auto& r : c.runs) {
      nlohmann::json curve = nlohmann::json::array();
      for (const auto& p : r.val_accuracy.points) curve.push_back({{"epoch", p.x}, {"value", p.y}});
      out.push_back({{"label", r.label},
                     {"run", r.run_id},
                     {"val_accuracy", curve},
                     {"test_accuracy", detail::optional_json(r.test_accuracy)},
                     {"epoch_reaching_common_best", detail::optional_json(reached(r))}});
    }
    std::cout << nlohmann::json{{"runs", out}, {"page", page.string()}}.dump(2) << "\n";
    return 0;
  }
  std::vector<column> columns{{"EPOCH", true}};
  for (const auto& l : labels) columns.push_back({"VAL_ACC " + l, true});
  table t(columns);
  std::size_t epochs = 0;
  for (const auto& r : c.runs) epochs = std::max(epochs, r.val_accuracy.points.size());
  for (std::size_t e = 0; e < epochs; ++e) {
    std::vector<std::string> row{std::to_string(e + 1)};
    for (const auto& r : c.runs)
      row.push_back(e < r.val_accuracy.points.size()
                        ? fmt::format("{:.4f}", r.val_accuracy.points[e].y)
                        : "-");
    t.add(row);
  }
  std::cout << t.render();
  for (const auto& r : c.runs)
    std::cout << fmt::format("{:<14} run {:<16} test_accuracy {}  reached {:.4f} at epoch {}\n",
                             r.label, r.run_id,
                             r.test_accuracy ? fmt::format("{:.4f}", *r.test_accuracy) : "-",
                             target, reached(r) ? std::to_string(*reached(r)) : "-");
  std::cout << fmt::format("comparison page: {}\n", page.string());
  return 0;
}

}  // namespace trellis::tool
