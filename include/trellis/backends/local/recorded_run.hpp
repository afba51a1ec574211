// run_recorded: a local run from start to end as the workspace records it: the run is created
// (folder with plan.json and settings.json, the effective values; provenance, tags, the run it
// resumes), its metrics indexed and heartbeat kept while the job runs, its model registered when
// the pipeline says so, and its ending recorded: Completed, Failed (with the reason and the rank
// that failed) or Canceled, which say how to resume it.
#pragma once
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trellis/backends/local/driver.hpp"
#include "trellis/backends/export_model.hpp"
#include "trellis/backends/local/resume.hpp"
#include "trellis/backends/local/run_monitor.hpp"
#include "trellis/core/library_versions.hpp"
#include "trellis/core/serialization/durable_file.hpp"
#include "trellis/core/train/metric_record.hpp"
#include "trellis/core/train/run_files.hpp"
#include "trellis/pipeline.hpp"
#include "trellis/plan/write_plan.hpp"
#include "trellis/workspace/dataset_fingerprint.hpp"
#include "trellis/workspace/provenance.hpp"
#include "trellis/workspace/register_run.hpp"
#include "trellis/workspace/run_report.hpp"
#include "trellis/workspace/workspace.hpp"

namespace trellis::backends::local {

namespace detail {
inline std::map<std::string, std::string> run_tags(const cli::options& o) {
  std::map<std::string, std::string> tags;
  for (const auto& t : o.tags) tags[t.substr(0, t.find('='))] = t.substr(t.find('=') + 1);
  return tags;
}

/// How to call the `trellis` command line from here: its name when it is on PATH, else its
/// path in the build tree beside this program (build/bin/trellis), with --workspace when the
/// workspace is not the default.
inline std::string tool_command(const cli::options& o) {
  namespace fs = std::filesystem;
  std::string tool = "trellis";
  bool on_path = false;
  if (const char* path = std::getenv("PATH"))
    for (std::string_view rest = path; !rest.empty() && !on_path;) {
      const auto colon = rest.find(':');
      on_path = ::access((fs::path{rest.substr(0, colon)} / "trellis").c_str(), X_OK) == 0;
      rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
    }
  std::error_code ec;
  const auto self = fs::read_symlink("/proc/self/exe", ec);
  if (!on_path && !ec)
    for (const auto& candidate : {self.parent_path().parent_path() / "bin" / "trellis",
                                  self.parent_path() / "trellis"})
      if (::access(candidate.c_str(), X_OK) == 0) {
        tool = fs::relative(candidate, fs::current_path(), ec).string();
        if (ec || tool.empty() || tool.starts_with("..")) tool = candidate.string();
        break;
      }
  if (o.workspace != cli::options{}.workspace) tool += " --workspace=" + o.workspace;
  return tool;
}

/// How to run this program again to resume `run_id`.
inline std::string resume_command(const cli::options& o, const std::string& run_id) {
  return o.invoked_as + (o.workspace != cli::options{}.workspace ? " --workspace=" + o.workspace : "") +
         " --resume " + run_id;
}

/// "rank 1 failed: exited with code 1; its log is ..." without the log tail.
inline std::string failure_reason(const job_report& report) {
  if (!report.first_failure) return "the job failed";
  const auto& f = *report.first_failure;
  return fmt::format("{} failed: {}; its log is {}", f.who, f.how, f.log.string());
}
}  // namespace detail

template <class Pipeline>
int run_recorded(const Pipeline& p, const plan::run_plan& plan, const cli::options& o) {
  using V = pipeline_view_t<Pipeline>;
  namespace ws = trellis::workspace;
  ws::workspace w(o.workspace);
  for (const auto& id : w.stale_runs())
    std::cerr << fmt::format("[trellis] run {} was found stale (its driver is gone) and marked "
                             "Failed\n",
                             id);
  const auto versions = core::current_library_versions();
  const std::string plan_json = plan::plan_json(p, plan), settings = plan::settings_json(p);
  std::optional<ws::run_record> resumed;
  if (!o.resume.empty()) {
    resumed = resumable_run(w, o.resume);
    check_same_stages(*resumed, plan_json);
  }
  const auto run = ws::create_run(
      w.db(), w.root(),
      {std::string{plan::to_std(V::trn::facts.experiment)}, "local", plan_json, settings,
       ws::collect_provenance(versions.torch, versions.cuda, versions.nccl),
       detail::run_tags(o), resumed ? std::optional{resumed->id} : std::nullopt});
  // Whatever escapes below ends the run as Failed, with its reason (an ending recorded before
  // stays: finish_run changes only a run that has not ended).
  try {
    const ws::run_folder folder{run.id, run.folder};
    core::replace_file(folder.root / "plan.json", plan_json + '\n');
    core::replace_file(folder.root / "settings.json", settings + '\n');
    std::cout << plan::plan_summary(plan)
              << fmt::format("run {} in {}\n", run.id, folder.root.string()) << std::flush;
    if (resumed)
      std::cout << (carry_over(resumed->folder, folder.root)
                        ? fmt::format("[trellis] run {} resumes run {} from its last checkpoint\n",
                                      run.id, resumed->id)
                        : fmt::format("[trellis] run {} resumes run {}, which left no checkpoint: "
                                      "it starts at epoch 1\n",
                                      run.id, resumed->id))
                << std::flush;

    // The data the model will learn from, fingerprinted before it trains.
    std::optional<std::string> fingerprint;
    if constexpr (V::has_register && V::has_dataset) {
      const std::string root{plan::to_std(get<stage_order::dataset>(p).root.view())};
      if (!root.starts_with("azureml:")) fingerprint = ws::dataset_fingerprint(root);
    }

    run_monitor monitor(w.root() / "workspace.db", run);
    ws::start_run(w.db(), run.id);
    const auto report = run_job(plan, o, folder);
    try {
      monitor.stop();
    } catch (const std::exception& e) {
      ws::finish_run(w.db(), run.id, ws::run_status::failed,
                     fmt::format("its metrics could not be indexed: {}", e.what()));
      std::cerr << fmt::format("[trellis] run {} failed: its metrics could not be indexed: {}\n",
                               run.id, e.what());
      return 1;
    }
    const std::string tool = detail::tool_command(o);
    if (report.interrupted) {
      ws::finish_run(w.db(), run.id, ws::run_status::canceled, "interrupted (Ctrl-C or SIGTERM)");
      std::cerr << fmt::format("[trellis] resume it with: {}\n", detail::resume_command(o, run.id));
      return report.exit_code;
    }
    if (report.exit_code != 0) {
      std::optional<std::int64_t> rank;
      if (report.first_failure && report.first_failure->rank)
        rank = static_cast<std::int64_t>(*report.first_failure->rank);
      ws::finish_run(w.db(), run.id, ws::run_status::failed, detail::failure_reason(report), rank);
      std::cerr << fmt::format("[trellis] see it with: {} runs show {}\n", tool, run.id)
                << fmt::format("[trellis] resume it from its last checkpoint with: {}\n",
                               detail::resume_command(o, run.id));
      return report.exit_code;
    }

    const core::run_files files(folder.root);
    // export_onnx's file, checked by rank 0, and what the check found.
    std::optional<std::filesystem::path> onnx;
    nlohmann::json onnx_report;
    if constexpr (V::has_export) {
      onnx = folder.outputs() / get<stage_order::export_onnx>(p).file.c_str();
      std::ifstream in(export_report_file(*onnx));
      onnx_report = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
      if (!std::filesystem::exists(*onnx) || !onnx_report.is_object()) {
        ws::finish_run(w.db(), run.id, ws::run_status::failed,
                       fmt::format("export_onnx: rank 0 left no checked '{}'", onnx->string()));
        std::cerr << fmt::format("[trellis] run {} failed: export_onnx left no checked '{}'\n",
                                 run.id, onnx->string());
        return 1;
      }
    }
    std::optional<ws::model_card> registered;
    if constexpr (V::has_register) {
      try {
        ws::trained_model trained{run.id, folder.outputs(), fingerprint, plan.transfer, {}};
        if (onnx) trained.extra_files.emplace_back(onnx->filename().string(), *onnx);
        registered = ws::register_trained_model(w.db(), w.root(), p, trained, onnx_report);
      } catch (const std::exception& e) {
        ws::finish_run(w.db(), run.id, ws::run_status::failed,
                       fmt::format("register_model: {}", e.what()));
        std::cerr << fmt::format("[trellis] run {} failed: register_model: {}\n", run.id, e.what());
        return 1;
      }
    }
    ws::finish_run(w.db(), run.id, ws::run_status::completed);
    const auto page = ws::write_results_page(w.db(), *ws::find_run(w.db(), w.root(), run.id));

    std::cout << fmt::format("[trellis] run {} completed in {:.1f} s", run.id, report.seconds);
    if (const auto best = core::best_logged_value(files.metrics, "val_accuracy"))
      std::cout << fmt::format("; best val_accuracy {:.4f}", *best);
    std::cout << fmt::format("; outputs in {}\n", files.model.parent_path().string());
    if (registered)
      std::cout << fmt::format("[trellis] registered {} ({}) in {}\n", registered->ref().text(),
                               registered->arch.describe(),
                               ws::version_folder(w.root(), registered->ref()).string());
    if (const auto tested = core::logged_values(files.metrics, "test_accuracy"); !tested.empty())
      std::cout << fmt::format("[trellis] test_accuracy {:.4f} on the test split, with the model "
                               "select_best chose\n",
                               tested.back());
    if (onnx)
      std::cout << fmt::format("[trellis] ONNX: {} (opset {}, checked by the ONNX checker and strict "
                               "shape inference, and against LibTorch: max difference {:.2g})\n",
                               (registered ? ws::version_folder(w.root(), registered->ref()) /
                                                 onnx->filename()
                                           : *onnx)
                                   .string(),
                               onnx_report.value("opset", 0), onnx_report.value("max_abs_diff", 0.0));
    std::cout << fmt::format("[trellis] results page: {}\n", page.string());
    // The plan said so before the run; its end says it again, with where the model is.
    if (!plan.not_carried_out.empty())
      std::cout << fmt::format("[trellis] {}; the trained model is {}\n",
                               plan.not_carried_out_sentence(), files.model.string());
    std::cout << fmt::format("[trellis] see it with:\n  {0} runs show {1}\n  {0} runs metrics {1}\n",
                             tool, run.id);
    if (registered)
      std::cout << fmt::format("  {} models show {}\n", tool, registered->ref().text());
    return 0;
  } catch (const std::exception& e) {
    ws::finish_run(w.db(), run.id, ws::run_status::failed, e.what());
    throw;
  }
}

}  // namespace trellis::backends::local
