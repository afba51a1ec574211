// run_recorded: a run from start to end as the workspace records it, whichever backend runs its
// job (processes here, an Azure ML job): the run is created (folder with plan.json and
// settings.json, the effective values; provenance, tags, the run it resumes), its metrics indexed
// and its heartbeat kept while the job runs, and its ending recorded: Completed (export_onnx's
// file checked, the model registered when the pipeline says so, the results page written and a
// summary printed), Failed (with the reason and the rank that failed) or Canceled, which say how
// to resume it when the backend can.
#pragma once
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trellis/backends/export_model.hpp"
#include "trellis/backends/local/resume.hpp"
#include "trellis/backends/run_monitor.hpp"
#include "trellis/backends/tool_command.hpp"
#include "trellis/cli/options.hpp"
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

namespace trellis::backends {

/// How a backend's job ended, as the backend saw it.
struct job_ending {
  workspace::run_status status = workspace::run_status::completed;
  int exit_code = 0;  ///< what the driver returns
  double seconds = 0;
  std::string reason;  ///< why it failed or was canceled
  std::optional<std::int64_t> failing_rank;
  bool resumable = false;  ///< --resume can continue it from its last checkpoint
};

/// What a backend's job sees of its run: the record (id, folder) and the workspace that holds it.
struct run_in_progress {
  const workspace::run_record& record;
  workspace::run_folder folder;
  workspace::workspace& ws;

  /// Where the run can be seen outside the workspace (an Azure ML job's page in the Studio).
  void link(const std::string& url) const {
    workspace::set_external_link(ws.db(), record.id, url);
  }
};

namespace detail {
/// How to run this program again to resume `run_id`.
inline std::string resume_command(const cli::options& o, const std::string& run_id) {
  return o.invoked_as +
         (o.workspace != cli::options{}.workspace ? " --workspace=" + o.workspace : "") +
         " --resume " + run_id;
}

inline std::map<std::string, std::string> run_tags(const cli::options& o) {
  std::map<std::string, std::string> tags;
  for (const auto& t : o.tags) tags[t.substr(0, t.find('='))] = t.substr(t.find('=') + 1);
  return tags;
}

/// A completed job's end: export_onnx's file, checked by rank 0, and the model registered from
/// the run folder's outputs/, the run finished, its results page written and a summary printed.
template <class Pipeline>
int conclude(const Pipeline& p, const plan::run_plan& plan, const cli::options& o,
             workspace::workspace& w, const workspace::run_record& run,
             const std::optional<std::string>& fingerprint, const job_ending& ending) {
  using V = pipeline_view_t<Pipeline>;
  namespace ws = trellis::workspace;
  const ws::run_folder folder{run.id, run.folder};
  const core::run_files files(folder.root);
  const std::string tool = tool_command(o);
  // export_onnx's file, checked by rank 0, and what the check found.
  std::optional<std::filesystem::path> onnx;
  nlohmann::json onnx_report;
  if constexpr (V::has_export_onnx) {
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
  if constexpr (V::has_register_model) {
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

  std::cout << fmt::format("[trellis] run {} completed in {:.1f} s", run.id, ending.seconds);
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
  if (registered) std::cout << fmt::format("  {} models show {}\n", tool, registered->ref().text());
  return 0;
}
}  // namespace detail

/// Creates the run (on the plan's backend), then `job(const run_in_progress&)` runs the
/// job, writing what it produced into the run folder as a local run does (logs/, metrics.jsonl,
/// outputs/), and returns its job_ending, which is recorded. Whatever escapes ends the run as
/// Failed, with its reason.
template <class Pipeline, class Job>
int run_recorded(const Pipeline& p, const plan::run_plan& plan, const cli::options& o, Job&& job) {
  using V = pipeline_view_t<Pipeline>;
  namespace ws = trellis::workspace;
  ws::workspace w(o.workspace);
  for (const auto& id : w.stale_runs())
    std::cerr << fmt::format("[trellis] run {} was found stale (its driver is gone) and marked "
                             "Failed\n",
                             id);
  const auto versions = core::current_library_versions();
  const std::string plan_json = plan::plan_json(p, plan), settings = plan::settings_json(p);
  // --resume: a run of this workspace that only the local backend can have left (it says so).
  std::optional<ws::run_record> resumed;
  if (!o.resume.empty()) {
    resumed = local::resumable_run(w, o.resume);
    local::check_same_stages(*resumed, plan_json);
  }
  const auto run =
      ws::create_run(w.db(), w.root(),
                     {std::string{plan::to_std(V::train::facts.experiment)},
                      std::string{plan::name_of(plan.backend)}, plan_json, settings,
                      ws::collect_provenance(versions.torch, versions.cuda, versions.nccl),
                      detail::run_tags(o), resumed ? std::optional{resumed->id} : std::nullopt});
  // An ending recorded before stays: finish_run changes only a run that has not ended.
  try {
    const ws::run_folder folder{run.id, run.folder};
    core::replace_file(folder.root / "plan.json", plan_json + '\n');
    core::replace_file(folder.root / "settings.json", settings + '\n');
    std::cout << plan::plan_summary(plan)
              << fmt::format("run {} in {}\n", run.id, folder.root.string()) << std::flush;
    if (resumed)
      std::cout << (local::carry_over(resumed->folder, folder.root)
                        ? fmt::format("[trellis] run {} resumes run {} from its last checkpoint\n",
                                      run.id, resumed->id)
                        : fmt::format("[trellis] run {} resumes run {}, which left no checkpoint: "
                                      "it starts at epoch 1\n",
                                      run.id, resumed->id))
                << std::flush;

    // The data the model will learn from, fingerprinted before it trains.
    std::optional<std::string> fingerprint;
    if constexpr (V::has_register_model && V::has_dataset) {
      const std::string root{plan::to_std(get<stage_order::dataset>(p).root.view())};
      if (!root.starts_with("azureml:")) fingerprint = ws::dataset_fingerprint(root);
    }

    run_monitor monitor(w.root() / "workspace.db", run);
    ws::start_run(w.db(), run.id);
    const job_ending ending = job(run_in_progress{run, folder, w});
    try {
      monitor.stop();
    } catch (const std::exception& e) {
      ws::finish_run(w.db(), run.id, ws::run_status::failed,
                     fmt::format("its metrics could not be indexed: {}", e.what()));
      std::cerr << fmt::format("[trellis] run {} failed: its metrics could not be indexed: {}\n",
                               run.id, e.what());
      return 1;
    }
    if (ending.status == ws::run_status::canceled) {
      ws::finish_run(w.db(), run.id, ws::run_status::canceled, ending.reason);
      if (ending.resumable)
        std::cerr << fmt::format("[trellis] resume it with: {}\n",
                                 detail::resume_command(o, run.id));
      return ending.exit_code;
    }
    if (ending.status != ws::run_status::completed) {
      ws::finish_run(w.db(), run.id, ws::run_status::failed, ending.reason, ending.failing_rank);
      std::cerr << fmt::format("[trellis] see it with: {} runs show {}\n", tool_command(o), run.id);
      if (ending.resumable)
        std::cerr << fmt::format("[trellis] resume it from its last checkpoint with: {}\n",
                                 detail::resume_command(o, run.id));
      return ending.exit_code;
    }
    return detail::conclude(p, plan, o, w, run, fingerprint, ending);
  } catch (const std::exception& e) {
    ws::finish_run(w.db(), run.id, ws::run_status::failed, e.what());
    throw;
  }
}

}  // namespace trellis::backends
