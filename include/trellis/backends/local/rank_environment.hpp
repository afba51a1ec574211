// The environment contract a local job gives its processes: the variables torchrun and Azure ML
// set for every rank (MASTER_ADDR ... NODE_RANK), plus trellis's own: where the run folder is,
// which device a rank uses, which restart this is, and the transfer_from file the plan verified.
#pragma once
#include <map>
#include <string>

#include "trellis/plan/run_plan.hpp"

namespace trellis::backends::local {

/// Variables shared by every process of the job (launchers included).
inline std::map<std::string, std::string> job_environment(const plan::run_plan& plan,
                                                          const std::string& run_dir,
                                                          std::size_t restart) {
  std::map<std::string, std::string> env{
      {"MASTER_ADDR", plan.master_addr},
      {"MASTER_PORT", std::to_string(plan.master_port)},
      {"WORLD_SIZE", std::to_string(plan.world_size())},
      {"LOCAL_WORLD_SIZE", std::to_string(plan.procs)},
      {"TRELLIS_RUN_DIR", run_dir},
      {"TRELLIS_COLLECTIVE", std::string{name_of(plan.collective)}},
      {"TRELLIS_RESTART", std::to_string(restart)}};
  // The version the plan resolved and verified: every rank starts from that same file.
  if (plan.transfer) {
    env["TRELLIS_TRANSFER_MODEL"] = plan.transfer->model;
    env["TRELLIS_TRANSFER_FILE"] = plan.transfer->file;
    env["TRELLIS_TRANSFER_SHA256"] = plan.transfer->sha256;
  }
  return env;
}

/// The variables of one rank, on top of the job's.
inline std::map<std::string, std::string> rank_environment(std::map<std::string, std::string> env,
                                                           const plan::rank_slot& slot) {
  env["RANK"] = std::to_string(slot.global_rank);
  env["LOCAL_RANK"] = std::to_string(slot.local_rank);
  env["NODE_RANK"] = std::to_string(slot.node);
  env["TRELLIS_DEVICE"] = slot.device;
  return env;
}

}  // namespace trellis::backends::local
