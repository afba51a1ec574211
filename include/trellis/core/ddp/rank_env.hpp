// rank_env: who this process is in the job, read from the environment contract that torchrun,
// Azure ML, mpirun and the local backend set (docs/architecture.md#rank-environment), and which
// run it belongs to. No LibTorch here, so the driver can tell "am I a worker?" cheaply.
#pragma once
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace trellis::core::ddp {

/// A missing or malformed rank variable; the message names the variable.
struct rank_env_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Where the rank numbers came from.
enum class rank_source { torch_env, mpi };

struct rank_env {
  std::string master_addr;  ///< TCPStore host (MASTER_ADDR, also in MPI mode)
  std::uint16_t master_port = 0;
  int world_size = 1;
  int rank = 0;
  int local_rank = 0;
  int local_world_size = 1;
  int node_rank = 0;
  rank_source source = rank_source::torch_env;
  bool use_agent_store = false;  ///< torchrun hosts the store; every rank connects as a client
  int restart_count = 0;  ///< TORCHELASTIC_RESTART_COUNT: keys of earlier attempts are kept apart
  /// The run and attempt this rank belongs to (TRELLIS_RUN_ID, TRELLIS_ATTEMPT_ID, TRELLIS_RUN_DIR,
  /// set by the local backend's driver): its rendezvous admits no rank of another. Empty
  /// without a driver (torchrun, Azure ML, a plain mpirun).
  std::string run_id, attempt_id, run_dir;

  /// "run fashion_3 (attempt 9c1f..., folder /ws/runs/fashion_3)", or "a run without an id".
  [[nodiscard]] std::string run_description() const {
    if (run_id.empty()) return "a run without an id (started without the trellis driver)";
    return "run " + run_id + " (attempt " + attempt_id +
           (run_dir.empty() ? "" : ", folder " + run_dir) + ")";
  }
};

/// Reads one variable; tests pass a map-backed lookup instead of the process environment.
using env_lookup = std::function<std::optional<std::string>(const std::string&)>;

inline std::optional<std::string> process_env(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  return v ? std::optional<std::string>(v) : std::nullopt;
}

namespace detail {

[[noreturn]] inline void rank_env_fail(const std::string& name, const std::string& what) {
  throw rank_env_error("[trellis] rank environment: " + name + what);
}

inline std::string required(const env_lookup& env, const std::string& name) {
  auto v = env(name);
  if (!v) rank_env_fail(name, " is not set (the launcher must set it for every worker)");
  if (v->empty()) rank_env_fail(name, " is empty");
  return *v;
}

inline int to_int(const std::string& name, const std::string& text, int lo, int hi) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size())
    rank_env_fail(name, "='" + text + "' is not an integer");
  if (value < lo || value > hi)
    rank_env_fail(name,
                  "=" + text + " is outside " + std::to_string(lo) + ".." + std::to_string(hi));
  return value;
}

inline int required_int(const env_lookup& env, const std::string& name, int lo, int hi) {
  return to_int(name, required(env, name), lo, hi);
}

inline std::optional<int> optional_int(const env_lookup& env, const std::string& name, int lo,
                                       int hi) {
  auto v = env(name);
  if (!v || v->empty()) return std::nullopt;
  return to_int(name, *v, lo, hi);
}

}  // namespace detail

/// True when a launcher started this process as a rank (the driver/worker switch).
inline bool has_rank_env(const env_lookup& env = process_env) {
  return env("RANK").has_value() || env("OMPI_COMM_WORLD_RANK").has_value();
}

/// Parses and checks the rank variables. RANK wins over OMPI_COMM_WORLD_RANK when both are set.
/// LOCAL_WORLD_SIZE defaults to WORLD_SIZE (one node); NODE_RANK to GROUP_RANK (torchrun), then
/// to rank / local_world_size.
inline rank_env read_rank_env(const env_lookup& env = process_env) {
  using detail::optional_int;
  using detail::required_int;
  constexpr int max_ranks = 1 << 20;
  rank_env r;
  const bool mpi = !env("RANK") && env("OMPI_COMM_WORLD_RANK");
  const std::string prefix = mpi ? "OMPI_COMM_WORLD_" : "";
  const std::string world_name = mpi ? "OMPI_COMM_WORLD_SIZE" : "WORLD_SIZE";
  const std::string local_size_name = mpi ? "OMPI_COMM_WORLD_LOCAL_SIZE" : "LOCAL_WORLD_SIZE";
  r.source = mpi ? rank_source::mpi : rank_source::torch_env;

  r.world_size = required_int(env, world_name, 1, max_ranks);
  r.rank = required_int(env, prefix + "RANK", 0, r.world_size - 1);
  r.local_world_size = optional_int(env, local_size_name, 1, r.world_size).value_or(r.world_size);
  r.local_rank = required_int(env, prefix + "LOCAL_RANK", 0, r.local_world_size - 1);
  const int nodes = (r.world_size + r.local_world_size - 1) / r.local_world_size;
  auto node = mpi ? std::nullopt : optional_int(env, "NODE_RANK", 0, nodes - 1);
  if (!node && !mpi) node = optional_int(env, "GROUP_RANK", 0, nodes - 1);
  r.node_rank = node.value_or(r.rank / r.local_world_size);

  r.master_addr = detail::required(env, "MASTER_ADDR");
  r.master_port = static_cast<std::uint16_t>(required_int(env, "MASTER_PORT", 1, 65535));
  r.use_agent_store = env("TORCHELASTIC_USE_AGENT_STORE").value_or("") == "True";
  r.restart_count = optional_int(env, "TORCHELASTIC_RESTART_COUNT", 0, max_ranks).value_or(0);
  r.run_id = env("TRELLIS_RUN_ID").value_or("");
  r.attempt_id = env("TRELLIS_ATTEMPT_ID").value_or("");
  r.run_dir = env("TRELLIS_RUN_DIR").value_or("");
  return r;
}

}  // namespace trellis::core::ddp
