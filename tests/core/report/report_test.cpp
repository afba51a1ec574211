// The results pages in a real browser: each page is rendered from realistic data, opened in
// headless Chromium with render_check.js injected first in its <head>, and checked from what
// Chromium laid out: every chart drawn with the right series, to scale; tables holding the
// data; no error, console message, script or fetched resource; user text shown as text.
#include <fmt/format.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "run_captured.hpp"
#include "sample_runs.hpp"
#include "scratch_dir.hpp"
#include "trellis/report/comparison_page.hpp"
#include "trellis/report/run_page.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using trellis::core::testing::read_text;
using trellis::core::testing::run_captured;
using trellis::core::testing::scratch_dir;
namespace report = trellis::report;

struct rendered {
  json page;        ///< what render_check.js saw
  std::string log;  ///< Chromium's stderr, console messages included
};

/// Opens `page` in headless Chromium (a fresh profile, no network) with render_check.js, and
/// takes a screenshot when `screenshot` is given.
rendered open_in_chromium(const fs::path& page, const fs::path& screenshot = {}) {
  auto html = read_text(page);
  const auto head = html.find("<head>");
  REQUIRE(head != std::string::npos);
  html.insert(head + 6, "<script>" + read_text(TRELLIS_RENDER_CHECK) + "</script>");
  const auto checked = page.parent_path() / (page.stem().string() + ".checked.html");
  std::ofstream(checked) << html;

  const auto work = scratch_dir("report", "chromium_" + page.stem().string());
  const auto dom = work / "dom.html";
  std::vector<std::string> argv = {
      // sh only sends Chromium's stdout (the DOM) to its own file, away from its stderr log.
      "/bin/sh",
      "-c",
      R"(out=$1; shift; exec "$@" > "$out")",
      "sh",
      dom.string(),
      TRELLIS_CHROMIUM,
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--user-data-dir=" + (work / "profile").string(),
      "--host-resolver-rules=MAP * ~NOTFOUND",
      "--enable-logging=stderr",
      "--v=0",
      "--window-size=1320,2000",
      "--dump-dom"};
  if (!screenshot.empty()) argv.push_back("--screenshot=" + screenshot.string());
  argv.push_back("file://" + checked.string());

  const auto start = std::chrono::steady_clock::now();
  const auto run = run_captured({.argv = argv, .env = {}, .log = work / "chromium.log"});
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  fmt::print("chromium: {} in {:.2f} s\n", page.filename().string(), took.count());
  INFO(run.output);
  REQUIRE(run.status.success());

  const auto text = read_text(dom);
  const std::string marker = "<pre id=\"render-check\" hidden=\"\">";
  const auto from = text.find(marker);
  REQUIRE(from != std::string::npos);
  auto seen = json::parse(
      text.substr(from + marker.size(), text.find("</pre>", from) - from - marker.size()));
  INFO(seen.dump(1));
  REQUIRE(!seen.contains("failed"));
  return {std::move(seen), run.output};
}

/// Nothing but the page was loaded, nothing complained, and no script ran but render_check.js.
void check_clean(const rendered& r) {
  CHECK(r.page["problems"] == json::array());
  CHECK(r.page["resources"] == json::array());
  CHECK(r.page["scripts"] == 1);
  std::string console_lines;
  std::istringstream log(r.log);
  for (std::string line; std::getline(log, line);)
    if (line.find(":CONSOLE") != std::string::npos) console_lines += line + "\n";
  CHECK(console_lines.empty());
}

/// The pixel of `value` on an axis, from its first and last ticks (label and position).
double pixel_of(const json& ticks, double value) {
  REQUIRE(ticks.size() >= 2);
  const double v0 = std::stod(ticks.front()["label"].get<std::string>());
  const double v1 = std::stod(ticks.back()["label"].get<std::string>());
  const double p0 = ticks.front()["at"], p1 = ticks.back()["at"];
  return p0 + (value - v0) / (v1 - v0) * (p1 - p0);
}

std::size_t finite_points(const report::series& s) {
  std::size_t n = 0;
  for (const auto& p : s.points) n += std::isfinite(p.x) && std::isfinite(p.y);
  return n;
}

/// The chart `id` shows `lines` in order: each a drawn line through all its finite points, in
/// its own colour, named in the legend.
void check_line_chart(const json& charts, const std::string& id,
                      const std::vector<report::series>& lines, const std::string& x_label,
                      const std::string& y_label) {
  INFO("line chart " << id);
  const auto chart =
      std::find_if(charts.begin(), charts.end(), [&](const json& c) { return c["id"] == id; });
  REQUIRE(chart != charts.end());
  CHECK((*chart)["box"]["width"] > 300);
  CHECK((*chart)["box"]["height"] > 150);
  CHECK((*chart)["axisLabels"] == json::array({y_label, x_label}));
  const auto& drawn = (*chart)["series"];
  REQUIRE(drawn.size() == lines.size());
  REQUIRE((*chart)["legend"].size() == lines.size());
  std::set<std::string> strokes;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    INFO("series " << lines[i].name);
    CHECK(drawn[i]["name"] == lines[i].name);
    CHECK(drawn[i]["points"] == finite_points(lines[i]));
    CHECK(drawn[i]["length"] > 100);
    CHECK(drawn[i]["box"]["width"] > 100);
    CHECK(drawn[i]["box"]["height"] > 10);
    // To scale: the lines span the data's range on both axes (SVG coordinates keep 0.1 px).
    double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
    for (const auto& p : lines[i].points)
      if (std::isfinite(p.x) && std::isfinite(p.y))
        x_lo = std::min(x_lo, p.x), x_hi = std::max(x_hi, p.x), y_lo = std::min(y_lo, p.y),
        y_hi = std::max(y_hi, p.y);
    const auto& extent = drawn[i]["extent"];
    CHECK(extent["left"].get<double>() == Approx(pixel_of((*chart)["xTicks"], x_lo)).margin(0.25));
    CHECK(extent["right"].get<double>() == Approx(pixel_of((*chart)["xTicks"], x_hi)).margin(0.25));
    CHECK(extent["top"].get<double>() == Approx(pixel_of((*chart)["yTicks"], y_hi)).margin(0.25));
    CHECK(extent["bottom"].get<double>() ==
          Approx(pixel_of((*chart)["yTicks"], y_lo)).margin(0.25));
    REQUIRE(!drawn[i]["stroke"].empty());
    strokes.insert(drawn[i]["stroke"][0].get<std::string>());
    CHECK((*chart)["legend"][i]["text"] == lines[i].name);
    CHECK((*chart)["legend"][i]["width"] > 10);
  }
  CHECK(strokes.size() == lines.size());
}

/// The bar chart `id` has a bar per value, labelled, from 0 to the value on its axis.
void check_bar_chart(const json& charts, const std::string& id,
                     const std::vector<std::pair<std::string, double>>& bars) {
  INFO("bar chart " << id);
  const auto chart =
      std::find_if(charts.begin(), charts.end(), [&](const json& c) { return c["id"] == id; });
  REQUIRE(chart != charts.end());
  const auto& drawn = (*chart)["bars"];
  REQUIRE(drawn.size() == bars.size());
  for (std::size_t i = 0; i < bars.size(); ++i) {
    CHECK(drawn[i]["label"] == bars[i].first);
    CHECK(drawn[i]["width"] > 50);
    const double x = drawn[i]["x"];
    CHECK(x == Approx(pixel_of((*chart)["xTicks"], 0)).margin(0.25));
    CHECK(x + drawn[i]["width"].get<double>() ==
          Approx(pixel_of((*chart)["xTicks"], bars[i].second)).margin(0.25));
  }
}

const json& table_captioned(const json& tables, const std::string& caption) {
  const auto t = std::find_if(tables.begin(), tables.end(),
                              [&](const json& x) { return x["caption"] == caption; });
  INFO("table " << caption);
  REQUIRE(t != tables.end());
  return *t;
}

/// A number as a table shows it, read back: within half its last shown digit of `expected`.
void check_number(const json& cell, double expected) {
  const auto text = cell.get<std::string>();
  INFO(text << " for " << expected);
  const auto dot = text.find('.');
  const double half_digit =
      0.5 * std::pow(10.0, dot == std::string::npos ? 0.0 : -double(text.size() - dot - 1));
  CHECK(std::fabs(std::stod(text) - expected) <= half_digit + 1e-12);
}

bool contains(const json& text, const std::string& part) {
  return text.get<std::string>().find(part) != std::string::npos;
}

/// Pixels of each colour in a PNG, counted by Python's PIL.
json colour_counts(const fs::path& png, const std::vector<std::string>& colours) {
  const auto out = png.parent_path() / (png.stem().string() + ".colours.json");
  std::vector<std::string> argv = {TRELLIS_PYTHON, TRELLIS_COUNT_COLOURS, png.string(),
                                   out.string()};
  argv.insert(argv.end(), colours.begin(), colours.end());
  const auto run =
      run_captured({.argv = argv, .env = {}, .log = png.parent_path() / "count_colours.log"});
  INFO(run.output);
  REQUIRE(run.status.success());
  return json::parse(read_text(out));
}

}  // namespace

TEST_CASE("a run's results page draws its curves, confusion matrix, metrics, ranks, lineage",
          "[run_page]") {
  const auto dir = scratch_dir("report", "run_page");
  const auto run = report::testing::sample_run(true);
  const auto file = report::write_run_page(run, dir / run.run_id);
  CHECK(file == dir / run.run_id / "results.html");
  const auto screenshot = fs::current_path() / "run_page.png";
  fs::remove(screenshot);
  const auto r = open_in_chromium(file, screenshot);
  check_clean(r);
  const auto& page = r.page;
  CHECK(page["title"] == "Run " + run.run_id);

  check_line_chart(page["lineCharts"], "loss", run.loss, "epoch", "loss");
  check_line_chart(page["lineCharts"], "accuracy", run.accuracy, "epoch", "accuracy");

  std::vector<std::pair<std::string, double>> throughput;
  for (const auto& rank : run.ranks)
    throughput.emplace_back(fmt::format("rank {} ({})", rank.rank, rank.device),
                            rank.images_per_second);
  check_bar_chart(page["barCharts"], "throughput", throughput);

  const auto& confusion = table_captioned(
      page["tables"], "Test split: true class (rows) against predicted class (columns)");
  const auto& m = run.test_confusion;
  REQUIRE(confusion["rows"].size() == m.class_names.size() + 2);
  for (std::size_t c = 0; c < m.class_names.size(); ++c)
    CHECK(confusion["rows"][1][c] == m.class_names[c]);
  for (std::size_t t = 0; t < m.counts.size(); ++t) {
    const auto& row = confusion["rows"][t + 2];
    CHECK(row[0] == "true " + m.class_names[t]);
    std::int64_t total = 0;
    for (std::size_t p = 0; p < m.counts[t].size(); ++p) {
      CHECK(row[p + 1] == std::to_string(m.counts[t][p]));
      total += m.counts[t][p];
    }
    CHECK(row[m.counts.size() + 1] == std::to_string(total));
    check_number(row[m.counts.size() + 2], double(m.counts[t][t]) / double(total));
  }

  const auto& metrics = table_captioned(page["tables"], "Final metrics")["rows"];
  REQUIRE(metrics.size() == run.final_metrics.size() + 1);
  std::size_t i = 1;
  for (const auto& [name, value] : run.final_metrics) {
    CHECK(metrics[i][0] == name);
    check_number(metrics[i++][1], value);
  }
  CHECK(run.final_metrics.contains("test_accuracy"));
  CHECK(run.final_metrics.contains("test_loss"));

  const auto& ranks = table_captioned(page["tables"], "Rank map")["rows"];
  REQUIRE(ranks.size() == run.ranks.size() + 2);  // header and total
  for (std::size_t k = 0; k < run.ranks.size(); ++k) {
    const auto& rank = run.ranks[k];
    CHECK(ranks[k + 1][0] == std::to_string(rank.rank));
    CHECK(ranks[k + 1][1] == rank.node);
    CHECK(ranks[k + 1][2] == std::to_string(rank.local_rank));
    CHECK(ranks[k + 1][3] == rank.device);
    check_number(ranks[k + 1][4], rank.images_per_second);
  }

  for (const auto& part : {run.run_id, report::version_text(*run.lineage.registered),
                           report::version_text(*run.lineage.parent), run.lineage.parent_run_id,
                           run.experiment, run.description})
    CHECK(contains(page["text"], part));

  // Painted, not only laid out: both series colours are on the screenshot.
  const auto colours = colour_counts(
      screenshot, {std::string(report::style_of(0).color), std::string(report::style_of(1).color)});
  CHECK(colours["width"] == 1320);
  CHECK(colours["counts"][0] > 500);
  CHECK(colours["counts"][1] > 500);
}

TEST_CASE("the comparison page puts transfer and from scratch on one chart", "[comparison_page]") {
  const auto dir = scratch_dir("report", "comparison_page");
  const auto transfer = report::testing::sample_run(true);
  const auto scratch = report::testing::sample_run(false);
  report::write_run_page(transfer, dir / transfer.run_id);
  report::write_run_page(scratch, dir / scratch.run_id);
  const report::comparison_summary c{
      "Transfer learning against training from scratch",
      "ResNet-18 on five Fashion-MNIST classes it was not pre-trained on",
      {report::compared("transfer", transfer, transfer.run_id + "/results.html"),
       report::compared("from scratch", scratch, scratch.run_id + "/results.html")}};
  const auto file = dir / "comparison.html";
  report::write_comparison_page(c, file);
  const auto r = open_in_chromium(file, fs::current_path() / "comparison_page.png");
  check_clean(r);
  const auto& page = r.page;
  CHECK(page["title"] == c.title);

  check_line_chart(
      page["lineCharts"], "val-accuracy",
      {{"transfer", transfer.accuracy[1].points}, {"from scratch", scratch.accuracy[1].points}},
      "epoch", "validation accuracy");
  const double transfer_test = transfer.final_metrics.at("test_accuracy");
  const double scratch_test = scratch.final_metrics.at("test_accuracy");
  check_bar_chart(page["barCharts"], "test-accuracy",
                  {{"transfer", transfer_test}, {"from scratch", scratch_test}});

  const auto& runs = table_captioned(page["tables"], "Runs compared")["rows"];
  REQUIRE(runs.size() == 3);
  CHECK(runs[1][2] == "fashion-base:2");
  CHECK(runs[2][2] == "none");
  check_number(runs[1][5], transfer_test);
  check_number(runs[2][5], scratch_test);
  CHECK(contains(page["text"], fmt::format("{:.1f} points below transfer",
                                           100 * (transfer_test - scratch_test))));

  REQUIRE(page["links"].size() == 2);
  for (std::size_t k = 0; k < 2; ++k) {
    const auto& link = page["links"][k];
    CHECK(link["text"] == c.runs[k].run_id);
    const auto href = link["href"].get<std::string>();
    REQUIRE(href.starts_with("file://"));
    CHECK(fs::exists(href.substr(7)));
  }
}

TEST_CASE("names and labels with markup show as text and run nothing", "[escaping]") {
  const auto dir = scratch_dir("report", "escaping");
  const std::string image =
      R"(<img src="https://cdn.invalid/x.png" onerror="document.title='ran'">)";
  const std::string script = R"(</script><script>document.title='ran'</script>)";
  const std::string quotes = R"(a "quoted" & 'apostrophed' <name>)";
  auto run = report::testing::sample_run(true);
  run.run_id = "run <b>7</b>";
  run.experiment = image;
  run.description = script;
  run.loss[0].name = quotes;
  run.loss[1].points[4].y = std::nan("");  // a gap: the line breaks, the other points stay
  run.test_confusion.class_names[1] = image;
  run.test_confusion.class_names[2] = quotes;
  run.final_metrics[script] = 1.5;
  run.ranks[0].node = script;
  run.lineage.registered->name = image;
  const auto r = open_in_chromium(report::write_run_page(run, dir));
  check_clean(r);
  CHECK(r.page["title"] == "Run " + run.run_id);
  for (const auto& text : {image, script, quotes}) CHECK(contains(r.page["text"], text));
  check_line_chart(r.page["lineCharts"], "loss", run.loss, "epoch", "loss");
}
