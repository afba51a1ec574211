// make_store: the key-value store the ranks rendezvous through. Rank 0 hosts a TCPStore at
// MASTER_ADDR:MASTER_PORT (the others connect), or under torchrun's agent store every rank is a
// client; a one-rank job needs no network and gets an in-memory store. The store belongs to one
// run and attempt: rank 0 writes which into it, a rank of another run that reaches the port is
// refused with a message naming both, and every key of the job lies under the run's own prefix.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "trellis/core/ddp/c10d_compat.hpp"
#include "trellis/core/ddp/rank_env.hpp"
#include "trellis/posix/address.hpp"

namespace trellis::core::ddp {

/// This rank cannot join its job's rendezvous: the address does not resolve, or the port belongs
/// to another run. Not a collective failure: the rank that throws it is the one that failed.
struct rendezvous_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace detail {
/// Where rank 0 writes which run the store belongs to (outside every run's prefix).
inline const std::string owner_key = "trellis/run";

inline std::string store_text(const std::vector<std::uint8_t>& bytes) {
  return {bytes.begin(), bytes.end()};
}

inline std::string brief_error(const std::exception& e) {
  if (auto* c = dynamic_cast<const c10::Error*>(&e)) return c->what_without_backtrace();
  return e.what();
}

/// The run whose rank 0 holds host:port, as it describes itself; nullopt when what listens
/// there is no trellis rendezvous (or does not answer within `limit`).
inline std::optional<std::string> rendezvous_owner(const std::string& host, std::uint16_t port,
                                                   std::chrono::milliseconds limit) {
  try {
    c10d::TCPStoreOptions opts;
    opts.port = port;
    opts.isServer = false;
    opts.waitWorkers = false;
    opts.timeout = limit;
    c10d::TCPStore probe(host, opts);
    return store_text(probe.get(owner_key));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

inline std::string conflict(const std::string& where, const std::string& other) {
  return where + " is the rendezvous of another run, " + other +
         ". Two runs cannot share a port: give this one another with --set "
         "distributed.master_port=N";
}
}  // namespace detail

/// Every key of the job lies under this prefix: the run's and attempt's own.
inline std::string store_prefix(const rank_env& env) {
  return env.run_id.empty() ? "trellis" : "trellis/" + env.run_id + "/" + env.attempt_id;
}

/// `timeout` bounds the wait for every rank to reach the store; `resolve_limit` bounds the
/// resolution of MASTER_ADDR (a name nobody answers for fails then, not after `timeout`).
inline c10::intrusive_ptr<c10d::Store> make_store(const rank_env& env,
                                                  std::chrono::milliseconds timeout,
                                                  std::chrono::milliseconds resolve_limit) {
  if (env.world_size == 1 && !env.use_agent_store) return c10::make_intrusive<c10d::HashStore>();
  const std::string where = env.master_addr + ":" + std::to_string(env.master_port);
  const auto host = posix::resolve_host(env.master_addr, resolve_limit);
  if (!host.ok())
    throw rendezvous_error("[trellis] ddp: rank " + std::to_string(env.rank) + ": MASTER_ADDR '" +
                           env.master_addr + "' does not resolve: " + host.error);
  c10d::TCPStoreOptions opts;
  opts.port = env.master_port;
  opts.isServer = env.rank == 0 && !env.use_agent_store;
  opts.numWorkers = static_cast<std::size_t>(env.world_size);
  opts.timeout = timeout;
  // Rank 0 says whose store it is before it waits for the others (a probe from another run may
  // come first).
  opts.waitWorkers = !opts.isServer;
  c10::intrusive_ptr<c10d::TCPStore> tcp;
  try {
    tcp = c10::make_intrusive<c10d::TCPStore>(host.text(), opts);
  } catch (const std::exception& e) {
    // Only a port that someone else listens on is a conflict (not a timeout waiting for ranks).
    if (!opts.isServer || posix::port_is_free(host, env.master_port)) throw;
    const auto other =
        detail::rendezvous_owner(host.text(), env.master_port, std::chrono::seconds(5));
    throw rendezvous_error("[trellis] ddp: rank 0 of " + env.run_description() +
                           " cannot host the rendezvous: " +
                           (other ? detail::conflict(where, *other)
                                  : where + " is in use by a program that is not a trellis "
                                            "rendezvous (" + detail::brief_error(e) + ")"));
  }
  // The agent store outlives restarts: keys of each attempt are kept apart, as torch does.
  if (env.use_agent_store)
    return c10::make_intrusive<c10d::PrefixStore>(
        "/worker/attempt_" + std::to_string(env.restart_count), tcp);

  const std::string mine = env.run_description();
  if (opts.isServer) {
    tcp->set(detail::owner_key, std::vector<std::uint8_t>(mine.begin(), mine.end()));
    tcp->waitForWorkers();
  } else if (const auto owner = detail::store_text(tcp->get(detail::owner_key)); owner != mine) {
    throw rendezvous_error("[trellis] ddp: rank " + std::to_string(env.rank) + " of " + mine +
                           " refused: " + detail::conflict(where, owner));
  }
  return c10::make_intrusive<c10d::PrefixStore>(store_prefix(env), tcp);
}

}  // namespace trellis::core::ddp
