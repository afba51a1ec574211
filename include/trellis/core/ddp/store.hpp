// make_store: the key-value store the ranks rendezvous through. Rank 0 hosts a TCPStore at
// MASTER_ADDR:MASTER_PORT (the others connect), or under torchrun's agent store every rank is a
// client; a one-rank job needs no network and gets an in-memory store.
#pragma once
#include <chrono>
#include <string>

#include "trellis/core/ddp/c10d_compat.hpp"
#include "trellis/core/ddp/rank_env.hpp"

namespace trellis::core::ddp {

inline c10::intrusive_ptr<c10d::Store> make_store(const rank_env& env, std::chrono::milliseconds timeout) {
  if (env.world_size == 1 && !env.use_agent_store) return c10::make_intrusive<c10d::HashStore>();
  c10d::TCPStoreOptions opts;
  opts.port = env.master_port;
  opts.isServer = env.rank == 0 && !env.use_agent_store;
  opts.numWorkers = static_cast<std::size_t>(env.world_size);
  opts.timeout = timeout;
  auto tcp = c10::make_intrusive<c10d::TCPStore>(env.master_addr, opts);
  // The agent store outlives restarts: keys of each attempt are kept apart, as torch does.
  const std::string prefix =
      env.use_agent_store ? "/worker/attempt_" + std::to_string(env.restart_count) : "trellis";
  return c10::make_intrusive<c10d::PrefixStore>(prefix, tcp);
}

}  // namespace trellis::core::ddp
