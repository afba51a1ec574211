// host_allreduce: the gradient allreduce for ranks that all run on one host, through shared
// memory instead of Gloo's loopback sockets. Every rank's gradient buckets live in one shared
// segment; for each bucket, rank r sums slice r over all ranks (always in rank order, so every
// rank gets bit-identical results) and writes the sum into every rank's copy. Nothing is copied
// in or out and no byte crosses the kernel: 44.8 MB (ResNet-18) take about 8-10 ms per rank on a
// 2-core machine where Gloo takes about 30 ms. A thread per group runs the collectives in launch
// order, so they overlap backward like Gloo's. A wait ends at the group's timeout, or within
// 100 ms once a peer's process has exited.
#pragma once
#include <torch/types.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "trellis/core/ddp/c10d_compat.hpp"
#include "trellis/core/ddp/shared_segment.hpp"

namespace trellis::core::ddp {

class host_allreduce {
 public:
  /// Collective, through `store`: rank 0 creates the segment (`numel` float32 per rank), the
  /// others map it. Returns nullptr on every rank when any rank could not map it or cannot see
  /// the others' processes (another PID namespace); `why_not` then says why, on that rank.
  /// `run_tag` (the run and attempt) names the segment, so /dev/shm tells whose it is.
  static std::shared_ptr<host_allreduce> open(c10d::Store& store, int rank, int world,
                                              std::int64_t numel, int generation,
                                              std::chrono::milliseconds timeout,
                                              const std::string& run_tag, std::string& why_not) {
    const std::string key = "host_allreduce/" + std::to_string(generation) + "/";
    const std::size_t region = round_up(static_cast<std::size_t>(numel) * sizeof(float), 4096);
    const std::size_t bytes = header_bytes(world) + static_cast<std::size_t>(world) * region;
    put(store, key + "pid/" + std::to_string(rank), std::to_string(::getpid()));

    std::shared_ptr<shared_segment> segment;
    std::string name;
    try {
      if (rank == 0) {
        name = segment_name(run_tag, generation);
        try {
          segment = shared_segment::create(name, bytes);
        } catch (...) {
          put(store, key + "name", "");  // the others fall back too
          throw;
        }
        put(store, key + "name", name);
      } else {
        name = take(store, key + "name");
        if (name.empty()) throw std::runtime_error("rank 0 could not create the shared segment");
        segment = shared_segment::open(name, bytes);
      }
    } catch (const std::exception& e) {
      why_not = e.what();
    }
    std::vector<int> pids(static_cast<std::size_t>(world));
    for (int r = 0; r < world; ++r) {
      pids[static_cast<std::size_t>(r)] = std::stoi(take(store, key + "pid/" + std::to_string(r)));
      if (segment && !process_running(pids[static_cast<std::size_t>(r)])) {
        why_not = "the process of rank " + std::to_string(r) + " is not visible from here";
        segment.reset();
      }
    }
    put(store, key + "ok/" + std::to_string(rank), segment ? "1" : "0");
    bool everyone = true;
    for (int r = 0; r < world; ++r)
      everyone = take(store, key + "ok/" + std::to_string(r)) == "1" && everyone;
    if (rank == 0 && !name.empty())
      shared_segment::unlink(name);  // every rank has mapped it, or failed
    if (!everyone) {
      if (why_not.empty()) why_not = "another rank could not map the shared segment";
      return nullptr;
    }
    return std::shared_ptr<host_allreduce>(new host_allreduce(
        std::move(segment), rank, world, numel, region, std::move(pids), timeout));
  }

  ~host_allreduce() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    queued_.notify_all();
    thread_.join();
  }
  host_allreduce(const host_allreduce&) = delete;
  host_allreduce& operator=(const host_allreduce&) = delete;

  /// This rank's `numel` floats in the segment (zeros at first); the segment lives as long as any
  /// tensor made from it.
  at::Tensor buffer() const {
    return torch::from_blob(
        region(rank_), {numel_}, [keep = segment_](void*) { (void)keep; }, torch::kFloat);
  }

  /// Whether `t` is a contiguous float32 range of this rank's buffer (and so reduced here).
  bool holds(const at::Tensor& t) const {
    if (t.scalar_type() != torch::kFloat || !t.is_contiguous()) return false;
    // As addresses: pointers into different allocations have no defined order.
    const auto begin = reinterpret_cast<std::uintptr_t>(region(rank_));
    const auto at = reinterpret_cast<std::uintptr_t>(t.data_ptr());
    return at >= begin && at + static_cast<std::uintptr_t>(t.numel()) * sizeof(float) <=
                              begin + static_cast<std::uintptr_t>(numel_) * sizeof(float);
  }

  /// In-place sum (or, with `average`, mean) of `t` (held by this buffer) over the host's ranks,
  /// asynchronous: the returned work completes, or fails naming the rank that left or timed out,
  /// on the group's thread.
  c10::intrusive_ptr<c10d::Work> allreduce(const at::Tensor& t, bool average) {
    auto work = c10::make_intrusive<work_item>(rank_);
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(
          {static_cast<const float*>(t.data_ptr()) - region(rank_), t.numel(), average, work});
    }
    queued_.notify_one();
    return work;
  }

 private:
  /// Per rank, one cache line: how many collectives it has joined, and finished.
  struct rank_slot {
    shared_counter arrived{0};
    shared_counter finished{0};
    char pad[56];
  };
  static_assert(sizeof(rank_slot) == 64);

  class work_item final : public c10d::Work {
   public:
    explicit work_item(int rank) : c10d::Work(rank, c10d::OpType::ALLREDUCE) {}
    void complete(std::exception_ptr error) { finish(std::move(error)); }
  };

  struct job {
    std::int64_t offset;  ///< in floats, from the start of a rank's buffer
    std::int64_t numel;
    bool average;  ///< divide the sum by the world size in the same pass
    c10::intrusive_ptr<work_item> work;
  };

  host_allreduce(std::shared_ptr<shared_segment> segment, int rank, int world, std::int64_t numel,
                 std::size_t region_bytes, std::vector<int> pids, std::chrono::milliseconds timeout)
      : segment_(std::move(segment)),
        rank_(rank),
        world_(world),
        numel_(numel),
        region_bytes_(region_bytes),
        pids_(std::move(pids)),
        timeout_(timeout),
        thread_([this] { run(); }) {}

  static std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }
  /// "/trellis-<run>-<attempt>-<generation>"; without a run id, this pid and a random number.
  static std::string segment_name(const std::string& run_tag, int generation) {
    std::string tag;
    for (const char c : run_tag.substr(0, 180))  // a name is at most 255 characters
      tag += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '_';
    if (tag.empty())
      tag = std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}());
    return "/trellis-" + tag + "-" + std::to_string(generation);
  }
  static std::size_t header_bytes(int world) {
    return round_up(sizeof(rank_slot) * static_cast<std::size_t>(world), 4096);
  }
  static void put(c10d::Store& store, const std::string& key, const std::string& value) {
    store.set(key, std::vector<std::uint8_t>(value.begin(), value.end()));
  }
  static std::string take(c10d::Store& store, const std::string& key) {
    const auto bytes = store.get(key);
    return {bytes.begin(), bytes.end()};
  }

  rank_slot& slot(int r) const { return reinterpret_cast<rank_slot*>(segment_->data())[r]; }
  float* region(int r) const {
    return reinterpret_cast<float*>(segment_->data() + header_bytes(world_) +
                                    static_cast<std::size_t>(r) * region_bytes_);
  }

  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      queued_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      auto next = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      // After a failure the ranks' counters no longer line up: every later collective fails too.
      if (!failed_) {
        try {
          reduce(next.offset, next.numel, next.average);
        } catch (...) {
          failed_ = std::current_exception();
        }
      }
      next.work->complete(failed_);
      lock.lock();
    }
  }

  /// One collective: join, sum this rank's slice into every rank's copy (divided by the world
  /// size with `average`), wait until all have.
  void reduce(std::int64_t offset, std::int64_t numel, bool average) {
    const std::uint32_t seq = ++joined_;
    signal(slot(rank_).arrived, seq);
    for (int r = 0; r < world_; ++r) await(r, &rank_slot::arrived, seq, "join");

    const std::int64_t per_rank = (numel + world_ - 1) / world_;
    const std::int64_t begin = std::min(numel, per_rank * rank_),
                       end = std::min(numel, begin + per_rank);
    constexpr std::int64_t block = 4096;  // 16 KiB: summed, then copied out while in L1
    std::array<float, block> sum;
    const auto divisor = static_cast<float>(world_);
    for (std::int64_t at = begin; at < end; at += block) {
      const std::int64_t n = std::min(block, end - at);
      const float* first = region(0) + offset + at;
      std::copy(first, first + n, sum.begin());
      for (int r = 1; r < world_; ++r) {
        const float* in = region(r) + offset + at;
        for (std::int64_t i = 0; i < n; ++i) sum[static_cast<std::size_t>(i)] += in[i];
      }
      if (average)
        for (std::int64_t i = 0; i < n; ++i) sum[static_cast<std::size_t>(i)] /= divisor;
      for (int r = 0; r < world_; ++r)
        std::memcpy(region(r) + offset + at, sum.data(),
                    static_cast<std::size_t>(n) * sizeof(float));
    }

    signal(slot(rank_).finished, seq);
    for (int r = 0; r < world_; ++r) await(r, &rank_slot::finished, seq, "finish");
  }

  static void signal(shared_counter& counter, std::uint32_t seq) {
    counter.store(seq, std::memory_order_release);
    wake_all(counter);
  }

  /// Until rank r's counter reaches seq (wrap-safe); throws when r's process is gone, at the
  /// timeout, or when this group is closing.
  void await(int r, shared_counter rank_slot::*counter, std::uint32_t seq, const char* phase) {
    shared_counter& word = slot(r).*counter;
    auto reached = [&](std::uint32_t v) { return static_cast<std::int32_t>(v - seq) >= 0; };
    for (int spin = 0; spin < 2000; ++spin)
      if (reached(word.load(std::memory_order_acquire))) return;
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    for (;;) {
      const std::uint32_t seen = word.load(std::memory_order_acquire);
      if (reached(seen)) return;
      const std::string who = "rank " + std::to_string(r) + " (pid " +
                              std::to_string(pids_[static_cast<std::size_t>(r)]) + ")";
      if (!process_running(pids_[static_cast<std::size_t>(r)]))
        throw std::runtime_error(who + " exited before it could " + phase +
                                 " the shared-memory allreduce");
      if (std::chrono::steady_clock::now() >= deadline)
        throw std::runtime_error("timed out after " + std::to_string(timeout_.count()) +
                                 " ms waiting for " + who + " to " + phase +
                                 " the shared-memory allreduce");
      {
        std::lock_guard lock(mutex_);
        if (stopping_)
          throw std::runtime_error("the process group was closed during a shared-memory allreduce");
      }
      wait_while(word, seen, std::chrono::milliseconds(100));
    }
  }

  std::shared_ptr<shared_segment> segment_;
  int rank_;
  int world_;
  std::int64_t numel_;
  std::size_t region_bytes_;
  std::vector<int> pids_;
  std::chrono::milliseconds timeout_;
  std::uint32_t joined_ = 0;  ///< collectives this rank has joined; the group's thread only

  std::mutex mutex_;
  std::condition_variable queued_;
  std::deque<job> queue_;
  bool stopping_ = false;
  std::exception_ptr failed_;  ///< the group's thread only
  std::thread thread_;         ///< last: starts once everything above exists
};

}  // namespace trellis::core::ddp
