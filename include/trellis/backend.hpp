// The seam between trellis::main and the heavy parts: a backend header (e.g.
// trellis/backends/local.hpp) specializes `backend<Tag, Pipeline>` with `available = true`
// and a `run` function. Without it, the program can still check and plan (--dry-run).
#pragma once

namespace trellis {

struct local_backend {};  ///< processes on this machine
struct azure_backend {};  ///< Azure ML v2 command jobs
struct worker_role {};    ///< this process is a rank (RANK or OMPI_COMM_WORLD_RANK is set)
struct node_launcher_role {};  ///< this process starts one node's ranks (launch mode per_node)

/// Specialized by backend headers: `static constexpr bool available = true;` and
/// `static int run(Pipeline&, const plan::run_plan&, const cli::options&)`.
template <class Tag, class Pipeline>
struct backend {
  static constexpr bool available = false;
};

/// Specialized by trellis/backends/pipeline_checks.hpp (which backend headers include): the
/// plan's checks that need the heavy parts, such as a transfer_from source that is registered and
/// fits (the workspace), or a model that exports to ONNX (LibTorch). `static void add(const
/// Pipeline&, plan::run_plan&, const cli::options&)` runs for --dry-run and before every run.
template <class Pipeline>
struct pipeline_checks {
  static constexpr bool available = false;
};

/// Specialized by trellis/backends/local.hpp: `static void apply(cli::options&)` turns
/// --resume RUN_ID into the settings that run was recorded with, ahead of the command line's
/// own --set (of which it allows only those that cannot change what is trained).
template <class Pipeline>
struct resume_support {
  static constexpr bool available = false;
};

}  // namespace trellis
