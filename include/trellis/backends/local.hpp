// The local backend: runs a pipeline's ranks as processes on this machine (Gloo on CPU, NCCL
// on CUDA), in the plan's launch mode, and is also the worker every rank runs. Including this
// header is what lets trellis::main train without --dry-run.
#pragma once
#include <iostream>
#include <string>

#include "trellis/backend.hpp"
#include "trellis/backends/local/driver.hpp"
#include "trellis/backends/local/node_launcher.hpp"
#include "trellis/backends/local/worker.hpp"
#include "trellis/core/train/metrics_log.hpp"
#include "trellis/core/train/run_files.hpp"
#include "trellis/main.hpp"

namespace trellis {

template <class Pipeline>
struct backend<local_backend, Pipeline> {
  static constexpr bool available = true;
  static int run(Pipeline&, const plan::run_plan& plan, const cli::options& o) {
    const text_view experiment = pipeline_view_t<Pipeline>::trn::facts.experiment;
    const auto report = backends::local::run_job(plan, o, std::string{plan::to_std(experiment)});
    if (report.exit_code == 0) {
      const core::run_files files(report.run.root);
      std::cout << "[trellis] run " << report.run.id << " completed in " << report.seconds << " s";
      if (const auto best = core::best_logged_value(files.metrics, "val_accuracy"))
        std::cout << "; best val_accuracy " << *best;
      std::cout << "; outputs in " << files.model.parent_path().string() << "\n";
      // The plan said so before the run; its end says it again, with where the model is.
      if (!plan.not_carried_out.empty())
        std::cout << "[trellis] " << plan.not_carried_out_sentence() << "; the trained model is "
                  << files.model.string() << "\n";
    }
    return report.exit_code;
  }
};

template <class Pipeline>
struct backend<worker_role, Pipeline> {
  static constexpr bool available = true;
  static int run(Pipeline& p, const plan::run_plan&, const cli::options& o) {
    return backends::local::run_worker(p, o);
  }
};

template <class Pipeline>
struct backend<node_launcher_role, Pipeline> {
  static constexpr bool available = true;
  static int run(Pipeline&, const plan::run_plan&, const cli::options& o) {
    return backends::local::run_node_launcher(o);
  }
};

}  // namespace trellis
