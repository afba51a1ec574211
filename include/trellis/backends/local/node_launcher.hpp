// The per_node launcher: started once per node with NODE_RANK and the job's variables, it starts
// that node's LOCAL_WORLD_SIZE ranks, as torch.distributed.launch does, and watches them; on a
// failure it stops the others, and a rank that died without a word gets a status file from it.
// Under mpirun the same program keeps one rank (OMPI_COMM_WORLD_RANK), for the same reasons.
#pragma once
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>

#include "trellis/backends/local/launch.hpp"
#include "trellis/backends/local/supervise.hpp"

namespace trellis::backends::local {

inline int run_node_launcher(const cli::options& o) {
  catch_interrupts();
  auto number = [](const char* name) {
    const char* v = std::getenv(name);
    if (!v) throw std::runtime_error(std::string{"node launcher: "} + name + " is not set");
    return static_cast<std::size_t>(std::stoul(v));
  };
  const char* run_dir = std::getenv("TRELLIS_RUN_DIR");
  if (!run_dir) throw std::runtime_error("node launcher: TRELLIS_RUN_DIR is not set");
  const bool under_mpirun = std::getenv("OMPI_COMM_WORLD_RANK") != nullptr;
  const auto collective = plan::collective_named(
      std::getenv("TRELLIS_COLLECTIVE") ? std::getenv("TRELLIS_COLLECTIVE") : "");
  const bool append =
      std::getenv("TRELLIS_RESTART") && std::string{std::getenv("TRELLIS_RESTART")} != "0";

  attempt a;
  a.run_dir = run_dir;
  a.world_size = number(under_mpirun ? "OMPI_COMM_WORLD_SIZE" : "WORLD_SIZE");
  a.starter = under_mpirun ? "its rank keeper" : "its node launcher";
  // The job's variables are inherited; a rank is no launcher, and follows this process.
  const std::map<std::string, std::string> own{
      {"TRELLIS_NODE_LAUNCHER", ""}, {posix::parent_pid_variable, std::to_string(::getpid())}};
  std::string started;
  if (under_mpirun) {
    const std::size_t rank = number("OMPI_COMM_WORLD_RANK");
    a.start({worker_arguments(o), own,
             a.run_dir / "logs" / ("rank_" + std::to_string(rank) + ".log"), append},
            rank);
    started = "rank " + std::to_string(rank);
  } else {
    const std::size_t node = number("NODE_RANK"), procs = number("LOCAL_WORLD_SIZE");
    for (std::size_t local = 0; local < procs; ++local) {
      // The same slot as the driver's plan: every node of a local run is on this machine.
      const auto slot = plan::rank_slot_of(node, local, procs, /*one_machine=*/true,
                                           collective == plan::collective_kind::nccl);
      auto env = rank_environment(own, slot);
      a.start({worker_arguments(o), env,
               a.run_dir / "logs" / ("rank_" + std::to_string(slot.global_rank) + ".log"), append},
              slot.global_rank);
    }
    started = "node " + std::to_string(node) + " started ranks " +
              std::to_string(plan::rank_slot_of(node, 0, procs, true, false).global_rank) + ".." +
              std::to_string(plan::rank_slot_of(node, procs - 1, procs, true, false).global_rank);
  }
  std::cout << "[trellis] " << started << std::endl;
  const auto result = supervise(a);
  if (result.result == outcome::interrupted) return 128 + interrupted;
  if (result.first_failure) {
    std::cout << "[trellis] " << describe(*result.first_failure) << std::flush;
    return 3;
  }
  return 0;
}

}  // namespace trellis::backends::local
