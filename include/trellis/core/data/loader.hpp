// loader: one rank's batches of a sample source, epoch by epoch, decoded by `workers` threads
// up to `prefetch` batches ahead. Batch k holds the same samples with the same random choices
// whatever the threads' timing; a worker's error is rethrown by next() when batch k is due.
#pragma once
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "trellis/core/data/batch.hpp"
#include "trellis/core/data/error.hpp"
#include "trellis/core/data/sampler.hpp"
#include "trellis/core/data/source.hpp"

namespace trellis::core {

struct loader_options {
  std::size_t batch_size = 1;
  std::size_t rank = 0;
  std::size_t world_size = 1;
  std::size_t subset = 0;    ///< use only the first N samples of the source; 0 uses all
  std::size_t workers = 2;   ///< decoding threads; 0 decodes in the thread calling next()
  std::size_t prefetch = 4;  ///< batches decoded ahead of the consumer (at least 1)
  sample_options sample{};   ///< sample.training also shuffles (per epoch, from sample.seed)
};

namespace detail {

/// One pass over a rank's index list. Workers claim batch numbers in order and file results
/// by number; next() takes them in order. Destruction stops and joins the workers.
class batch_run {
 public:
  batch_run(std::shared_ptr<const sample_source> source, const loader_options& options,
            std::vector<std::size_t> indices, std::uint64_t epoch)
      : source_{std::move(source)},
        sample_{options.sample},
        batch_size_{options.batch_size},
        prefetch_{std::max<std::size_t>(options.prefetch, 1)},
        indices_{std::move(indices)},
        epoch_{epoch},
        count_{(indices_.size() + batch_size_ - 1) / batch_size_} {
    try {
      for (std::size_t t = 0; t < std::min(options.workers, count_); ++t)
        threads_.emplace_back([this] { work(); });
    } catch (...) {
      stop();
      throw;
    }
  }
  batch_run(const batch_run&) = delete;
  batch_run& operator=(const batch_run&) = delete;
  ~batch_run() { stop(); }

  /// The next batch, nullopt after the last; rethrows (every time) the error of a failed batch.
  std::optional<batch> next() {
    if (failed_) std::rethrow_exception(failed_);
    if (taken_ == count_) return std::nullopt;
    outcome result;
    if (threads_.empty()) {
      result = produce(taken_++);
    } else {
      std::unique_lock lock{mutex_};
      ready_.wait(lock, [&] { return done_.count(taken_) != 0; });
      const auto it = done_.find(taken_);
      result = std::move(it->second);
      done_.erase(it);
      ++taken_;
      room_.notify_one();
    }
    if (result.error) {
      failed_ = result.error;
      stop();
      std::rethrow_exception(failed_);
    }
    return std::move(result.value);
  }

 private:
  struct outcome {
    batch value;
    std::exception_ptr error;
  };

  outcome produce(std::size_t k) const {
    const std::size_t first = k * batch_size_;
    const std::size_t n = std::min(batch_size_, indices_.size() - first);
    try {
      return {
          make_batch(*source_, sample_, std::span{indices_}.subspan(first, n), epoch_, &stopping_),
          nullptr};
    } catch (...) {
      return {{}, std::current_exception()};
    }
  }

  void work() {
    for (;;) {
      std::size_t k = 0;
      {
        std::unique_lock lock{mutex_};
        room_.wait(
            lock, [&] { return stopping_ || claimed_ == count_ || claimed_ < taken_ + prefetch_; });
        if (stopping_ || claimed_ == count_) return;
        k = claimed_++;
      }
      outcome result = produce(k);
      {
        const std::lock_guard lock{mutex_};
        done_.emplace(k, std::move(result));
      }
      ready_.notify_one();
    }
  }

  void stop() {
    {
      const std::lock_guard lock{mutex_};
      stopping_ = true;
    }
    room_.notify_all();
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

  std::shared_ptr<const sample_source> source_;
  sample_options sample_;
  std::size_t batch_size_, prefetch_;
  std::vector<std::size_t> indices_;
  std::uint64_t epoch_;
  std::size_t count_;
  std::mutex mutex_;
  std::condition_variable ready_, room_;
  std::map<std::size_t, outcome> done_;
  std::size_t claimed_ = 0, taken_ = 0;
  std::atomic<bool> stopping_{false};
  std::exception_ptr failed_;
  std::vector<std::thread> threads_;
};

}  // namespace detail

class loader {
 public:
  loader(std::shared_ptr<const sample_source> source, loader_options options)
      : source_{std::move(source)},
        options_{checked(*source_, options)},
        sampler_{options_.subset > 0 ? options_.subset : source_->size(), options_.rank,
                 options_.world_size, options_.sample.training, options_.sample.seed} {}

  /// Starts `epoch` from its first batch (reshuffled when training).
  void set_epoch(std::uint64_t epoch) { restore({epoch, 0}); }

  /// Goes on from a checkpoint's state: its epoch, after its consumed samples.
  void restore(sampler_state state) {
    run_.reset();
    sampler_.restore(state);
  }

  /// The next batch of the epoch; nullopt after the last. Rethrows a decoding error (a
  /// data_error naming the file) when its batch is due.
  std::optional<batch> next() {
    if (!run_) {
      auto indices = sampler_.indices();
      indices.erase(indices.begin(),
                    indices.begin() + static_cast<std::ptrdiff_t>(sampler_.position()));
      run_ = std::make_unique<detail::batch_run>(source_, options_, std::move(indices),
                                                 sampler_.epoch());
    }
    std::optional<batch> b = run_->next();
    if (b) {
      sampler_.advance(std::min(options_.batch_size, sampler_.size() - sampler_.position()));
      skipped_ += b->skipped;
    }
    return b;
  }

  [[nodiscard]] std::size_t batches_per_epoch() const {
    return (sampler_.size() + options_.batch_size - 1) / options_.batch_size;
  }
  /// Epoch and consumed samples, for a checkpoint.
  [[nodiscard]] sampler_state state() const { return sampler_.state(); }
  /// Corrupt samples skipped so far (skip_corrupt), for the trainer's metrics.
  [[nodiscard]] std::size_t skipped() const { return skipped_; }
  [[nodiscard]] const distributed_sampler& sampler() const { return sampler_; }
  [[nodiscard]] const sample_source& source() const { return *source_; }

 private:
  static loader_options checked(const sample_source& source, loader_options o) {
    if (o.batch_size == 0) throw std::invalid_argument{"loader: batch_size must be at least 1"};
    if (o.subset > source.size())
      throw data_error{source.origin(), "subset " + std::to_string(o.subset) + " exceeds the " +
                                            std::to_string(source.size()) + " samples here"};
    return o;
  }

  std::shared_ptr<const sample_source> source_;
  loader_options options_;
  distributed_sampler sampler_;
  std::size_t skipped_ = 0;
  std::unique_ptr<detail::batch_run> run_;  // last: stops its threads before the rest goes
};

}  // namespace trellis::core
