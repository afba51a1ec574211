// comparison_page: one page for a scenario's runs side by side (transfer against from scratch):
// their validation accuracy per epoch on one chart, their test accuracies as bars and in a table
// with links to each run's page.
#pragma once
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>

#include "trellis/report/bar_chart.hpp"
#include "trellis/report/html.hpp"
#include "trellis/report/line_chart.hpp"
#include "trellis/report/page.hpp"
#include "trellis/report/summary.hpp"
#include "trellis/report/table.hpp"

namespace trellis::report {

/// A run's side of a comparison: its val_accuracy curve and its test_accuracy metric.
inline compared_run compared(std::string label, const run_summary& run, std::string page = {}) {
  compared_run out{.label = std::move(label),
                   .run_id = run.run_id,
                   .page = std::move(page),
                   .val_accuracy = {},
                   .test_accuracy = {},
                   .parent = run.lineage.parent};
  const auto curve = std::find_if(run.accuracy.begin(), run.accuracy.end(),
                                  [](const series& s) { return s.name == "val_accuracy"; });
  if (curve != run.accuracy.end()) out.val_accuracy = *curve;
  if (auto m = run.final_metrics.find("test_accuracy"); m != run.final_metrics.end())
    out.test_accuracy = m->second;
  return out;
}

namespace detail {

inline std::string best_val_accuracy(const series& s) {
  std::optional<point> best;
  for (const auto& p : s.points)
    if (std::isfinite(p.y) && (!best || p.y > best->y)) best = p;
  return best ? fmt::format("{} (epoch {})", format_value(best->y), format_value(best->x))
              : "&mdash;";
}

inline std::string runs_table(const comparison_summary& c) {
  table t{.caption = "Runs compared",
          .columns = {{"run"},
                      {"id"},
                      {"transfer source"},
                      {"epochs", true},
                      {"best val accuracy", true},
                      {"test accuracy", true}},
          .rows = {},
          .css_class = "runs"};
  for (const auto& r : c.runs)
    t.rows.push_back(
        {escape(r.label),
         r.page.empty() ? escape(r.run_id)
                        : fmt::format("<a href=\"{}\">{}</a>", escape(r.page), escape(r.run_id)),
         r.parent ? escape(version_text(*r.parent)) : "none",
         std::to_string(r.val_accuracy.points.size()), best_val_accuracy(r.val_accuracy),
         r.test_accuracy ? format_value(*r.test_accuracy) : "&mdash;"});
  return render(t);
}

/// "from scratch: 0.8860 test accuracy, 5.2 points below transfer." for each run after the first.
inline std::string versus_first(const comparison_summary& c) {
  if (c.runs.empty() || !c.runs.front().test_accuracy) return {};
  const auto& first = c.runs.front();
  std::string out;
  for (std::size_t i = 1; i < c.runs.size(); ++i) {
    const auto& r = c.runs[i];
    if (!r.test_accuracy) continue;
    const double points = 100 * (*r.test_accuracy - *first.test_accuracy);
    out += fmt::format("<p>{}: {} test accuracy, {:.1f} points {} {} ({}).</p>\n", escape(r.label),
                       format_value(*r.test_accuracy), std::fabs(points),
                       points < 0 ? "below" : "above", escape(first.label),
                       format_value(*first.test_accuracy));
  }
  return out;
}

}  // namespace detail

inline std::string render_comparison_page(const comparison_summary& c) {
  line_chart curves{.id = "val-accuracy",
                    .title = "Validation accuracy per epoch",
                    .x_label = "epoch",
                    .y_label = "validation accuracy",
                    .lines = {}};
  bar_chart tests{.id = "test-accuracy",
                  .title = "Test accuracy",
                  .value_label = "test accuracy",
                  .bars = {},
                  .max_value = 1.0};
  for (std::size_t i = 0; i < c.runs.size(); ++i) {
    const auto& r = c.runs[i];
    curves.lines.push_back({r.label, r.val_accuracy.points});
    tests.bars.push_back({r.label, r.test_accuracy.value_or(std::nan("")), i});
  }
  const std::string subtitle =
      c.description.empty() ? "" : fmt::format("<p>{}</p>\n", escape(c.description));
  return render_page(c.title, subtitle,
                     {{"accuracy", "Accuracy", side_by_side({render(curves), render(tests)})},
                      {"runs", "Runs", detail::versus_first(c) + detail::runs_table(c)}});
}

/// Writes the page to `file` (links to run pages are relative to its folder).
inline void write_comparison_page(const comparison_summary& c, const std::filesystem::path& file) {
  write_page(file, render_comparison_page(c));
}

}  // namespace trellis::report
