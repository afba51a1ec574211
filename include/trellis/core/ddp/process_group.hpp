// process_group: this rank's membership in the job: the store, and a Gloo (CPU) or NCCL (CUDA)
// communicator with a timeout on every collective. A failed or timed-out collective throws
// collective_error naming the operation, the rank, and for a timeout the rank it waited for
// (progress_board.hpp); nothing waits forever.
#pragma once
#include <torch/cuda.h>
#include <torch/types.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "trellis/core/ddp/c10d_compat.hpp"
#include "trellis/core/ddp/host_allreduce.hpp"
#include "trellis/core/ddp/progress_board.hpp"
#include "trellis/core/ddp/rank_env.hpp"
#include "trellis/core/ddp/store.hpp"

namespace trellis::core::ddp {

/// A collective that failed, timed out, or lost a peer: often the consequence of another rank's
/// failure (rendezvous_error, in store.hpp, is a rank's own failure to join).
struct collective_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class backend_kind { gloo, nccl };

struct group_options {
  std::chrono::milliseconds timeout = std::chrono::seconds(30);  ///< for every collective
  /// For every rank to reach the rendezvous: ranks start at different speeds (loading LibTorch
  /// on a busy machine, pulling an image on a cloud node), so this is longer than `timeout`.
  std::chrono::milliseconds join_timeout = std::chrono::minutes(5);
  /// Default: NCCL when LibTorch has it and CUDA is present, otherwise Gloo.
  std::optional<backend_kind> backend;
  /// Network interface for Gloo. Default: GLOO_SOCKET_IFNAME; loopback when MASTER_ADDR is a
  /// loopback address (local runs); otherwise the address this host's name resolves to.
  std::string gloo_interface;
  /// When every rank runs on this host (LOCAL_WORLD_SIZE == WORLD_SIZE) on the CPU, gradient
  /// buckets are reduced through shared memory (host_allreduce.hpp) instead of Gloo's sockets.
  /// TRELLIS_HOST_ALLREDUCE=0 turns it off.
  bool host_allreduce = process_env("TRELLIS_HOST_ALLREDUCE").value_or("1") != "0";
};

namespace detail {

/// The text of an exception without LibTorch's C++ backtrace.
inline std::string brief_what(const std::exception& e) {
  if (auto* c = dynamic_cast<const c10::Error*>(&e)) return c->what_without_backtrace();
  return e.what();
}

inline bool timed_out(std::string what) {
  for (auto& c : what) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return what.find("timed out") != std::string::npos || what.find("timeout") != std::string::npos;
}

inline bool is_loopback(const std::string& host) {
  return host == "localhost" || host.starts_with("127.") || host == "::1";
}

inline backend_kind default_backend() {
  return TRELLIS_HAVE_NCCL && torch::cuda::is_available() ? backend_kind::nccl : backend_kind::gloo;
}

#if TRELLIS_HAVE_GLOO
inline std::shared_ptr<::gloo::transport::Device> gloo_device(const rank_env& env,
                                                              std::string iface) {
  using pg = c10d::ProcessGroupGloo;
  if (iface.empty()) iface = process_env("GLOO_SOCKET_IFNAME").value_or("");
  if (!iface.empty()) return pg::createDeviceForInterface(iface);
  if (env.world_size == 1 || is_loopback(env.master_addr))
    return pg::createDeviceForHostname("127.0.0.1");
  return pg::createDefaultDevice();
}
#endif

}  // namespace detail

class process_group {
 public:
  /// Joins the job described by `env` (blocks until every rank has joined, or the timeout).
  explicit process_group(const rank_env& env, group_options options = {})
      : rank_(env.rank),
        size_(env.world_size),
        timeout_(options.timeout),
        kind_(options.backend.value_or(detail::default_backend())),
        share_host_memory_(options.host_allreduce && kind_ == backend_kind::gloo &&
                           env.world_size > 1 && env.local_world_size == env.world_size) {
    try {
      store_ = make_store(env, std::max(options.join_timeout, timeout_), timeout_);
      if (size_ > 1 && !env.use_agent_store) progress_ = std::make_unique<progress_board>(env);
      backend_ =
          kind_ == backend_kind::nccl ? make_nccl(env) : make_gloo(env, options.gloo_interface);
    } catch (const rendezvous_error&) {
      throw;
    } catch (const std::exception& e) {
      throw rendezvous_error("[trellis] ddp: rank " + std::to_string(rank_) + " of " +
                             env.run_description() + " could not join the " +
                             std::to_string(size_) + "-rank group at " + env.master_addr + ":" +
                             std::to_string(env.master_port) + ": " + detail::brief_what(e));
    }
    run_tag_ = env.run_id.empty() ? "" : env.run_id + "-" + env.attempt_id;
  }

  process_group(const process_group&) = delete;
  process_group& operator=(const process_group&) = delete;
  /// NCCL (LibTorch >= 2.6) wants an explicit shutdown; left to its destructor it warns of a leak.
  ~process_group() {
#if TRELLIS_HAVE_NCCL && \
    (TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 6))
    if (kind_ != backend_kind::nccl || !backend_) return;
    try {
      static_cast<c10d::ProcessGroupNCCL*>(backend_.get())->shutdown();
    } catch (const std::exception& e) {  // a destructor cannot throw: say it, then go on exiting
      std::cerr << "[trellis] ddp: rank " << rank_
                << ": NCCL shutdown failed: " << detail::brief_what(e) << "\n";
    }
#endif
  }

  int rank() const { return rank_; }
  int size() const { return size_; }
  backend_kind kind() const { return kind_; }
  std::chrono::milliseconds timeout() const { return timeout_; }
  /// Where tensors handed to this group's collectives must live.
  torch::Device device() const {
    return kind_ == backend_kind::nccl
               ? torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(device_index_))
               : torch::Device(torch::kCPU);
  }
  c10d::Store& store() { return *store_; }

  /// Collective: `numel` zeroed floats for gradient buckets. When every rank runs on this host they
  /// lie in memory the ranks share, and allreduce_sum() on any contiguous range of them goes
  /// through shared memory; otherwise (or when shared memory fails, said once on stderr) they are
  /// ordinary tensors on device() and Gloo or NCCL reduces them.
  at::Tensor gradient_buffer(std::int64_t numel) {
    if (share_host_memory_) {
      std::string why_not;
      auto host = host_allreduce::open(*store_, rank_, size_, numel, host_generation_++, timeout_,
                                       run_tag_, why_not);
      if (host) return host_.emplace_back(std::move(host))->buffer();
      if (rank_ == 0)
        std::cerr << "[trellis] ddp: gradients go through Gloo, not shared memory: " << why_not
                  << std::endl;
    }
    return torch::zeros({numel}, torch::TensorOptions().dtype(torch::kFloat).device(device()));
  }
  /// Whether `tensor` is reduced through shared memory (it lies in a shared gradient_buffer()).
  bool shares_host_memory(const at::Tensor& tensor) const {
    return std::any_of(host_.begin(), host_.end(), [&](const auto& h) { return h->holds(tensor); });
  }

  /// In-place sum over ranks, asynchronous: pass the result to wait().
  c10::intrusive_ptr<c10d::Work> allreduce_sum(const at::Tensor& tensor) {
    return allreduce(tensor, false);
  }
  /// In-place average over ranks, asynchronous. Through shared memory the division is part of the
  /// sum's one pass over the data; c10d divides first, then sums.
  c10::intrusive_ptr<c10d::Work> allreduce_average(const at::Tensor& tensor) {
    return allreduce(tensor, true);
  }
  /// In-place copy of root's tensor to every rank, asynchronous.
  c10::intrusive_ptr<c10d::Work> broadcast(const at::Tensor& tensor, int root) {
    std::vector<at::Tensor> t{tensor};
    c10d::BroadcastOptions opts;
    opts.rootRank = root;
    return started(backend_->broadcast(t, opts));
  }

  /// Waits for `work`; a failure (peer gone, timeout) becomes collective_error naming `what`.
  void wait(const c10::intrusive_ptr<c10d::Work>& work, const std::string& what) {
    const auto seq = sequence_of(work);
    try {
      // Gloo and the shared-memory path enforce the timeout inside each operation; the longer wait
      // here only guards against one that never started. NCCL's watchdog enforces it for NCCL.
      if (kind_ == backend_kind::gloo)
        work->wait(2 * timeout_ + std::chrono::seconds(1));
      else
        work->wait();
    } catch (const std::exception& e) {
      std::string why = detail::brief_what(e);
      // The shared-memory path names the rank itself; Gloo's and c10d's timeouts do not.
      if (progress_ && seq && detail::timed_out(why) &&
          why.find("waiting for rank") == std::string::npos)
        why = progress_->explain(*seq, timeout_) + " (" + why + ")";
      throw collective_error("[trellis] ddp: " + what + " failed on rank " + std::to_string(rank_) +
                             " of " + std::to_string(size_) + ": " + why);
    }
  }

  /// Every rank reaches this point (an allreduce, so it works on Gloo and NCCL alike).
  void barrier() {
    auto one = torch::ones({1}, torch::TensorOptions().device(device()));
    wait(allreduce_sum(one), "barrier");
  }

 private:
  c10::intrusive_ptr<c10d::Work> allreduce(const at::Tensor& tensor, bool average) {
    for (auto& host : host_)
      if (host->holds(tensor)) return started(host->allreduce(tensor, average));
    if (average) tensor.div_(size_);
    std::vector<at::Tensor> t{tensor};
    return started(backend_->allreduce(t));
  }

  /// Counts a collective this rank started (every rank starts them in one order), for the
  /// progress board and for wait() to know which one failed.
  c10::intrusive_ptr<c10d::Work> started(c10::intrusive_ptr<c10d::Work> work) {
    const std::lock_guard lock{sequence_mutex_};
    ++started_;
    sequence_[work.get()] = started_;
    if (progress_) progress_->started(started_);
    return work;
  }
  std::optional<std::uint64_t> sequence_of(const c10::intrusive_ptr<c10d::Work>& work) {
    const std::lock_guard lock{sequence_mutex_};
    const auto it = sequence_.find(work.get());
    if (it == sequence_.end()) return std::nullopt;
    const auto seq = it->second;
    sequence_.erase(it);
    return seq;
  }

  c10::intrusive_ptr<comm_backend> make_gloo([[maybe_unused]] const rank_env& env,
                                             [[maybe_unused]] const std::string& iface) {
#if TRELLIS_HAVE_GLOO
    auto opts = c10d::ProcessGroupGloo::Options::create(timeout_);
    opts->devices.push_back(detail::gloo_device(env, iface));
    opts->threads = 2;  // two buckets in flight while backward goes on
    return c10::make_intrusive<c10d::ProcessGroupGloo>(store_, rank_, size_, opts);
#else
    throw std::runtime_error(
        "this LibTorch has no Gloo (pip torch ships no Gloo headers); use NCCL on CUDA");
#endif
  }

  c10::intrusive_ptr<comm_backend> make_nccl([[maybe_unused]] const rank_env& env) {
#if TRELLIS_HAVE_NCCL
    device_index_ = env.local_rank;
    c10::cuda::set_device(static_cast<c10::DeviceIndex>(device_index_));
    auto opts = c10d::ProcessGroupNCCL::Options::create();
    opts->timeout = timeout_;
    return c10::make_intrusive<c10d::ProcessGroupNCCL>(store_, rank_, size_, opts);
#else
    throw std::runtime_error("this LibTorch was built without NCCL; use Gloo");
#endif
  }

  int rank_;
  int size_;
  std::chrono::milliseconds timeout_;
  backend_kind kind_;
  int device_index_ = 0;
  bool share_host_memory_;
  int host_generation_ = 0;  ///< gradient buffers made so far: every rank makes them in one order
  std::string run_tag_;      ///< names this run's shared-memory segments
  std::mutex sequence_mutex_;
  std::uint64_t started_ = 0;  ///< collectives started
  std::unordered_map<const c10d::Work*, std::uint64_t> sequence_;  ///< of those not yet waited
  c10::intrusive_ptr<c10d::Store> store_;
  std::unique_ptr<progress_board> progress_;
  c10::intrusive_ptr<comm_backend> backend_;
  std::vector<std::shared_ptr<host_allreduce>> host_;
};

}  // namespace trellis::core::ddp
