// Starts one attempt of a local job in the plan's launch mode: every rank directly
// (per_process), one launcher per node that starts its ranks (per_node, as
// torch.distributed.launch does), or one mpirun whose processes each keep one rank (the mpi
// framework). Each attempt has an id of its own, which the rendezvous checks.
#pragma once
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "trellis/backends/local/rank_environment.hpp"
#include "trellis/backends/local/rank_status.hpp"
#include "trellis/cli/options.hpp"
#include "trellis/core/process/child.hpp"
#include "trellis/posix/parent_death.hpp"
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

/// A random id for one attempt of a run: the rendezvous tells attempts (and runs) apart by it.
inline std::string new_attempt_id() {
  std::random_device random;
  return fmt::format("{:08x}{:08x}", random(), random());
}

/// What an attempt started, and how its processes map to ranks for error reports.
struct attempt {
  std::vector<core::process::child> children;
  std::vector<std::filesystem::path> logs;         ///< one per child
  std::vector<std::optional<std::size_t>> ranks;   ///< the global rank of a child that is one
  enum class kind { ranks, node_launchers, mpirun } what = kind::ranks;
  std::filesystem::path run_dir;  ///< status/ and logs/ of every rank
  std::size_t world_size = 0;
  std::string starter = "the driver";  ///< who started the ranks, for the status files it writes

  void start(const core::process::spawn_request& request, std::optional<std::size_t> rank) {
    logs.push_back(request.log);
    ranks.push_back(rank);
    children.push_back(core::process::child::spawn(request));
  }
};

inline attempt launch(const plan::run_plan& plan, const workspace::run_folder& run,
                      const cli::options& o, std::size_t restart) {
  const auto run_dir = std::filesystem::absolute(run.root);
  auto env = job_environment(plan, run_dir.string(), restart);
  env["TRELLIS_RUN_ID"] = run.id;
  env["TRELLIS_ATTEMPT_ID"] = new_attempt_id();
  env[posix::driver_pid_variable] = std::to_string(::getpid());
  env[posix::driver_start_variable] = posix::own_start_ticks();
  clear_statuses(run_dir);
  const bool append = restart > 0;
  attempt a;
  a.run_dir = run_dir;
  a.world_size = plan.world_size();
  if (plan.framework == plan::framework_kind::mpi) {
    // mpirun starts a keeper per rank (the node launcher, for one rank), which starts the rank
    // and writes its status should it die of a signal; mpirun itself is no child of ours to
    // follow the driver, its keepers are.
    a.what = attempt::kind::mpirun;
    std::vector<std::string> argv{"mpirun",          "-np",       std::to_string(plan.world_size()),
                                  "--oversubscribe", "--bind-to", "none"};
    if (::geteuid() == 0) argv.push_back("--allow-run-as-root");
    auto keeper_env = env;
    keeper_env["TRELLIS_NODE_LAUNCHER"] = "1";
    keeper_env["TRELLIS_DEVICE"] = plan.ranks.front().device == "cpu" ? "cpu" : "cuda:local_rank";
    for (const auto& [key, value] : keeper_env) argv.insert(argv.end(), {"-x", key});
    for (auto& arg : worker_arguments(o)) argv.push_back(std::move(arg));
    a.start({argv, keeper_env, run.logs() / "mpirun.log", append}, std::nullopt);
  } else if (plan.launch == plan::launch_kind::per_node) {
    a.what = attempt::kind::node_launchers;
    env[posix::parent_pid_variable] = std::to_string(::getpid());
    for (std::size_t node = 0; node < plan.nodes; ++node) {
      auto node_env = env;
      node_env["NODE_RANK"] = std::to_string(node);
      node_env["TRELLIS_NODE_LAUNCHER"] = "1";
      a.start({worker_arguments(o), node_env,
               run.logs() / ("node_" + std::to_string(node) + ".log"), append},
              std::nullopt);
    }
  } else {
    env[posix::parent_pid_variable] = std::to_string(::getpid());
    for (const auto& slot : plan.ranks)
      a.start({worker_arguments(o), rank_environment(env, slot), run.rank_log(slot.global_rank),
               append},
              slot.global_rank);
  }
  return a;
}

}  // namespace trellis::backends::local
