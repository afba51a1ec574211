// distributed_sampler: one rank's share of a dataset, dealt as torch.utils.data.DistributedSampler
// deals it: shuffled by randperm from seed + epoch, padded with the first indices to
// ceil(N / world) per rank, rank r taking positions r, r + world, ...; resumable from its state.
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/types.h>

namespace trellis::core {

/// What a checkpoint keeps: the epoch and how many of this rank's samples it has consumed.
struct sampler_state {
  std::uint64_t epoch = 0;
  std::size_t position = 0;
};

class distributed_sampler {
 public:
  distributed_sampler(std::size_t dataset_size, std::size_t rank, std::size_t world_size,
                      bool shuffle = true, std::uint64_t seed = 0)
      : dataset_size_{dataset_size},
        rank_{rank},
        world_size_{world_size},
        shuffle_{shuffle},
        seed_{seed} {
    if (world_size == 0 || rank >= world_size)
      throw std::invalid_argument{"distributed_sampler: rank " + std::to_string(rank) +
                                  " is not below world size " + std::to_string(world_size)};
  }

  /// Samples per rank and epoch: ceil(N / world), the same on every rank.
  [[nodiscard]] std::size_t size() const { return (dataset_size_ + world_size_ - 1) / world_size_; }
  [[nodiscard]] std::size_t dataset_size() const { return dataset_size_; }
  [[nodiscard]] std::size_t rank() const { return rank_; }
  [[nodiscard]] std::size_t world_size() const { return world_size_; }
  [[nodiscard]] std::uint64_t epoch() const { return state_.epoch; }
  [[nodiscard]] std::size_t position() const { return state_.position; }
  [[nodiscard]] sampler_state state() const { return state_; }

  /// Starts an epoch from its first sample.
  void set_epoch(std::uint64_t epoch) { state_ = {epoch, 0}; }
  /// Marks n more samples as consumed.
  void advance(std::size_t n) { restore({state_.epoch, state_.position + n}); }
  void restore(sampler_state s) {
    if (s.position > size())
      throw std::invalid_argument{"distributed_sampler: position " + std::to_string(s.position) +
                                  " is past the " + std::to_string(size()) +
                                  " samples of an epoch"};
    state_ = s;
  }

  /// This rank's dataset indices for the current epoch, all of them (position not applied).
  [[nodiscard]] std::vector<std::size_t> indices() const {
    std::vector<std::size_t> all(dataset_size_);
    if (shuffle_ && dataset_size_ > 0) {
      const torch::Tensor order =
          torch::randperm(static_cast<std::int64_t>(dataset_size_),
                          at::detail::createCPUGenerator(seed_ + state_.epoch), torch::kLong);
      const std::int64_t* p = order.data_ptr<std::int64_t>();
      for (std::size_t i = 0; i < dataset_size_; ++i) all[i] = static_cast<std::size_t>(p[i]);
    } else {
      for (std::size_t i = 0; i < dataset_size_; ++i) all[i] = i;
    }
    std::vector<std::size_t> mine;
    mine.reserve(size());
    for (std::size_t k = rank_; k < size() * world_size_; k += world_size_)
      mine.push_back(all[k % dataset_size_]);  // past the end: padding from the front
    return mine;
  }

 private:
  std::size_t dataset_size_, rank_, world_size_;
  bool shuffle_;
  std::uint64_t seed_;
  sampler_state state_{};
};

}  // namespace trellis::core
