// progress_board: how many collectives each rank has started, published in the job's store by
// a thread of each rank (every 250 ms, when it changed), so that a rank whose collective timed
// out can name the rank it waited for: one that has not started that collective. The board has
// its own store connection with a short timeout, so a rank 0 that hangs (it hosts the store)
// cannot hang the ranks that ask; they then name rank 0.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "trellis/core/ddp/c10d_compat.hpp"
#include "trellis/core/ddp/rank_env.hpp"
#include "trellis/core/ddp/store.hpp"

namespace trellis::core::ddp {

class progress_board {
 public:
  /// Call after make_store(env, ...) succeeded: rank 0's store is up.
  explicit progress_board(const rank_env& env,
                          std::chrono::milliseconds answer_limit = std::chrono::seconds(2))
      : rank_(env.rank), world_(env.world_size) {
    c10d::TCPStoreOptions opts;
    opts.port = env.master_port;
    opts.isServer = false;
    opts.waitWorkers = false;
    opts.timeout = answer_limit;
    const auto host = posix::resolve_host(env.master_addr, answer_limit);
    auto tcp = c10::make_intrusive<c10d::TCPStore>(host.ok() ? host.text() : env.master_addr, opts);
    store_ = c10::make_intrusive<c10d::PrefixStore>(store_prefix(env) + "/progress", tcp);
    thread_ = std::thread([this] { publish(); });
  }
  ~progress_board() {
    {
      const std::lock_guard lock{mutex_};
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  progress_board(const progress_board&) = delete;
  progress_board& operator=(const progress_board&) = delete;

  /// This rank has started `count` collectives in all.
  void started(std::uint64_t count) { started_.store(count, std::memory_order_relaxed); }

  /// After this rank's collective number `seq` timed out (after `waited`): which rank it waited
  /// for, in words.
  std::string explain(std::uint64_t seq, std::chrono::milliseconds waited) {
    const std::string after = "timed out after " + std::to_string(waited.count()) + " ms";
    std::string lagging, counts;
    for (int r = 0; r < world_; ++r) {
      if (r == rank_) continue;
      std::uint64_t theirs = 0;  // a rank that never published has started none
      try {
        theirs = std::stoull(detail::store_text(store_->get(std::to_string(r))));
      } catch (const std::exception&) {
        if (r == 0)
          return after + "; rank 0, which hosts the store, does not answer either: it is the "
                         "rank this one waited for";
      }
      if (theirs >= seq) continue;
      lagging += (lagging.empty() ? "" : ", ") + std::to_string(r);
      counts += (counts.empty() ? "" : ", ") + std::to_string(theirs);
    }
    const std::string nth = "it is collective " + std::to_string(seq) + " here";
    if (lagging.empty())
      return after + "; every rank has started this collective (" + nth +
             "), so it stalled in the transport";
    const bool one = lagging.find(',') == std::string::npos;
    return after + " waiting for rank" + (one ? " " : "s ") + lagging + ", which " +
           (one ? "has" : "have") + " not started this collective (" + nth + "; the last count " +
           (one ? "it" : "they") + " reported: " + counts + ")";
  }

 private:
  void publish() {
    std::uint64_t published = ~std::uint64_t{0};  // publish 0 at once: every rank has a count
    std::unique_lock lock{mutex_};
    while (!stopping_) {
      const std::uint64_t now = started_.load(std::memory_order_relaxed);
      if (now != published) {
        lock.unlock();
        try {
          const std::string value = std::to_string(now);
          store_->set(std::to_string(rank_), std::vector<std::uint8_t>(value.begin(), value.end()));
          published = now;
        } catch (const std::exception&) {
          return;  // the store is gone (rank 0 ended): the job is ending anyway
        }
        lock.lock();
      }
      wake_.wait_for(lock, std::chrono::milliseconds(250), [this] { return stopping_; });
    }
  }

  int rank_, world_;
  c10::intrusive_ptr<c10d::Store> store_;
  std::atomic<std::uint64_t> started_{0};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;  ///< last: starts once everything above exists
};

}  // namespace trellis::core::ddp
