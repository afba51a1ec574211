// The local backend: runs a pipeline's ranks as processes on this machine (Gloo on CPU, NCCL on
// CUDA), in the plan's launch mode, records the run in the workspace, and registers and exports
// its model; it is also the worker every rank runs. Including this header is what lets
// trellis::main train without --dry-run.
#pragma once
#include "trellis/backend.hpp"
#include "trellis/backends/local/node_launcher.hpp"
#include "trellis/backends/local/recorded_run.hpp"
#include "trellis/backends/local/resume.hpp"
#include "trellis/backends/local/worker.hpp"
#include "trellis/backends/pipeline_checks.hpp"
#include "trellis/main.hpp"

namespace trellis {

template <class Pipeline>
struct backend<local_backend, Pipeline> {
  static constexpr bool available = true;
  static int run(Pipeline& p, const plan::run_plan& plan, const cli::options& o) {
    return backends::local::run_recorded(p, plan, o);
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
  requires(is_pipeline_v<Pipeline>)
struct resume_support<Pipeline> {
  static constexpr bool available = true;
  static void apply(cli::options& o) {
    workspace::workspace w(o.workspace);
    const auto run = backends::local::resumable_run(w, o.resume);
    o.settings = backends::local::resumed_settings(run, o.settings);
    std::cout << fmt::format("[trellis] resuming run {} ({}{}) with its settings\n", run.id,
                             workspace::name_of(run.status),
                             run.failure_reason ? ": " + *run.failure_reason : std::string{});
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
