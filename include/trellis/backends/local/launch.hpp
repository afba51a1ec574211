// Starts one attempt of a local job in the plan's launch mode: every rank directly
// (per_process), one launcher per node that starts its ranks (per_node, as
// torch.distributed.launch does), or one mpirun (the mpi framework).
#pragma once
#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "trellis/backends/local/rank_environment.hpp"
#include "trellis/cli/options.hpp"
#include "trellis/core/process/child.hpp"
#include "trellis/plan/run_plan.hpp"
#include "trellis/workspace/run_folder.hpp"

namespace trellis::backends::local {

/// This program, so that every process of the job runs the same binary.
inline std::string self_executable() {
  return std::filesystem::read_symlink("/proc/self/exe").string();
}

/// The command line a worker gets: the same workspace and --set values as the driver.
inline std::vector<std::string> worker_arguments(const cli::options& o) {
  std::vector<std::string> args{self_executable(), "--workspace=" + o.workspace};
  for (const auto& s : o.settings) args.push_back("--set=" + s);
  return args;
}

/// What an attempt started, and how its processes map to ranks for error reports.
struct attempt {
  std::vector<core::process::child> children;
  std::vector<std::filesystem::path> logs;  ///< one per child
  enum class kind { ranks, node_launchers, mpirun } what = kind::ranks;
};

inline attempt launch(const plan::run_plan& plan, const workspace::run_folder& run, const cli::options& o,
                      std::size_t restart) {
  namespace process = core::process;
  const auto env = job_environment(plan, std::filesystem::absolute(run.root).string(), restart);
  const bool append = restart > 0;
  attempt a;
  if (plan.framework == "Mpi") {
    a.what = attempt::kind::mpirun;
    std::vector<std::string> argv{"mpirun", "-np", std::to_string(plan.world_size()), "--oversubscribe",
                                  "--bind-to", "none"};
    if (::geteuid() == 0) argv.push_back("--allow-run-as-root");
    auto worker_env = env;
    worker_env["TRELLIS_LOG_DIR"] = std::filesystem::absolute(run.logs()).string();
    worker_env["TRELLIS_DEVICE"] = plan.ranks.front().device == "cpu" ? "cpu" : "cuda:local_rank";
    for (const auto& [key, value] : worker_env) argv.insert(argv.end(), {"-x", key});
    for (auto& arg : worker_arguments(o)) argv.push_back(std::move(arg));
    a.logs.push_back(run.logs() / "mpirun.log");
    a.children.push_back(process::child::spawn({argv, worker_env, a.logs.back(), append}));
  } else if (plan.launch == "per_node") {
    a.what = attempt::kind::node_launchers;
    for (std::size_t node = 0; node < plan.nodes; ++node) {
      auto node_env = env;
      node_env["NODE_RANK"] = std::to_string(node);
      node_env["TRELLIS_NODE_LAUNCHER"] = "1";
      a.logs.push_back(run.logs() / ("node_" + std::to_string(node) + ".log"));
      a.children.push_back(process::child::spawn({worker_arguments(o), node_env, a.logs.back(), append}));
    }
  } else {
    for (const auto& slot : plan.ranks) {
      a.logs.push_back(run.rank_log(slot.global_rank));
      a.children.push_back(
          process::child::spawn({worker_arguments(o), rank_environment(env, slot), a.logs.back(), append}));
    }
  }
  return a;
}

}  // namespace trellis::backends::local
