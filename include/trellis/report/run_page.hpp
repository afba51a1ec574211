// run_page: a run's results page (results.html in its run folder): learning curves, the test
// confusion matrix, the final metrics, the rank map with each rank's throughput, and the model's
// lineage, from a run_summary.
#pragma once
#include <fmt/format.h>

#include <filesystem>
#include <string>
#include <vector>

#include "trellis/report/bar_chart.hpp"
#include "trellis/report/confusion_matrix.hpp"
#include "trellis/report/html.hpp"
#include "trellis/report/line_chart.hpp"
#include "trellis/report/page.hpp"
#include "trellis/report/summary.hpp"
#include "trellis/report/table.hpp"

namespace trellis::report {

namespace detail {

inline std::string curves_html(const run_summary& run) {
  return side_by_side(
      {render(line_chart{"loss", "Loss per epoch", "epoch", "loss", run.loss}),
       render(line_chart{"accuracy", "Accuracy per epoch", "epoch", "accuracy", run.accuracy})});
}

inline std::string metrics_html(const run_summary& run) {
  table t{.caption = "Final metrics",
          .columns = {{"metric"}, {"value", true}},
          .rows = {},
          .css_class = "metrics"};
  for (const auto& [name, value] : run.final_metrics)
    t.rows.push_back({escape(name), format_value(value)});
  return render(t);
}

inline std::string ranks_html(const run_summary& run) {
  table t{
      .caption = "Rank map",
      .columns = {{"rank", true}, {"node"}, {"local rank", true}, {"device"}, {"images/s", true}},
      .rows = {},
      .css_class = "ranks"};
  bar_chart throughput{.id = "throughput",
                       .title = "Throughput per rank",
                       .value_label = "images per second",
                       .bars = {},
                       .max_value = {}};
  double total = 0;
  for (const auto& r : run.ranks) {
    t.rows.push_back({std::to_string(r.rank), escape(r.node), std::to_string(r.local_rank),
                      escape(r.device), format_value(r.images_per_second)});
    throughput.bars.push_back({fmt::format("rank {} ({})", r.rank, r.device), r.images_per_second});
    total += r.images_per_second;
  }
  t.rows.push_back({"all", "", "", "", format_value(total)});
  return side_by_side({fmt::format("<div>\n{}</div>\n", render(t)), render(throughput)});
}

inline std::string lineage_html(const run_summary& run) {
  const auto& l = run.lineage;
  const auto item = [](std::string_view term, const std::string& text) {
    return fmt::format("<dt>{}</dt><dd>{}</dd>\n", term, escape(text));
  };
  std::string out = fmt::format("<dl class=\"lineage\">\n{}", item("run", run.run_id));
  out += item("registered model",
              l.registered ? version_text(*l.registered) : "none (not registered)");
  out += item("parent model", l.parent ? version_text(*l.parent) : "none (trained from scratch)");
  if (!l.parent_run_id.empty()) out += item("parent's run", l.parent_run_id);
  return out + "</dl>\n";
}

}  // namespace detail

inline std::string render_run_page(const run_summary& run) {
  std::string subtitle =
      fmt::format("<p>Experiment <strong>{}</strong></p>\n", escape(run.experiment));
  if (!run.description.empty()) subtitle += fmt::format("<p>{}</p>\n", escape(run.description));
  return render_page(fmt::format("Run {}", run.run_id), subtitle,
                     {{"curves", "Learning curves", detail::curves_html(run)},
                      {"metrics", "Final metrics", detail::metrics_html(run)},
                      {"confusion", "Confusion matrix",
                       render(run.test_confusion,
                              "Test split: true class (rows) against predicted class (columns)")},
                      {"ranks", "Ranks and throughput", detail::ranks_html(run)},
                      {"lineage", "Model lineage", detail::lineage_html(run)}});
}

/// Writes the page to `run_dir`/results.html and returns that path.
inline std::filesystem::path write_run_page(const run_summary& run,
                                            const std::filesystem::path& run_dir) {
  auto file = run_dir / "results.html";
  write_page(file, render_run_page(run));
  return file;
}

}  // namespace trellis::report
