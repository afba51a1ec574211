// The per_node launcher: started once per node with NODE_RANK and the job's variables, it starts
// that node's LOCAL_WORLD_SIZE ranks, as torch.distributed.launch does, watches them, and on a
// failure stops the others and names the failing rank in its own log for the driver.
#pragma once
#include <cstdlib>
#include <iostream>
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
  const std::size_t node = number("NODE_RANK"), procs = number("LOCAL_WORLD_SIZE");
  const std::filesystem::path run_dir = std::getenv("TRELLIS_RUN_DIR");
  const std::string collective = std::getenv("TRELLIS_COLLECTIVE") ? std::getenv("TRELLIS_COLLECTIVE") : "gloo";

  const std::map<std::string, std::string> env;  // the job's variables are inherited
  attempt a;
  for (std::size_t local = 0; local < procs; ++local) {
    // The same slot as the driver's plan: every node of a local run is on this machine.
    const auto slot =
        plan::rank_slot_of(node, local, procs, /*one_machine=*/true, collective == "nccl");
    const std::size_t global = slot.global_rank;
    auto rank_env = rank_environment(env, slot);
    rank_env["TRELLIS_NODE_LAUNCHER"] = "";  // unset for the ranks (empty means "not a launcher")
    a.logs.push_back(run_dir / "logs" / ("rank_" + std::to_string(global) + ".log"));
    const bool append = std::getenv("TRELLIS_RESTART") && std::string{std::getenv("TRELLIS_RESTART")} != "0";
    a.children.push_back(core::process::child::spawn({worker_arguments(o), rank_env, a.logs.back(), append}));
  }
  std::cout << "[trellis] node " << node << " started ranks " << node * procs << ".." << node * procs + procs - 1
            << std::endl;
  const auto result = supervise(a, run_dir / "logs");
  if (result.result == outcome::interrupted) return 128 + interrupted;
  if (result.first_failure) {
    const auto& f = *result.first_failure;
    // The driver reports global ranks; this node's children are its local ranks, in order.
    std::cout << "[trellis] rank " << node * procs + f.process << " failed: " << f.how << std::endl;
    return 3;
  }
  return 0;
}

}  // namespace trellis::backends::local
