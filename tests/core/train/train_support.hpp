// Helpers shared by the trainer tests: scratch run folders, Fashion-MNIST loaders, a tiny
// dropout-free classifier (so runs compare bit for bit), a source with corrupt samples, and
// comparisons of parameters and metrics files.
#pragma once
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "trellis/core/data/error.hpp"
#include "trellis/core/data/idx.hpp"
#include "trellis/core/data/loader.hpp"
#include "trellis/core/models/classifier.hpp"
#include "trellis/core/train/config.hpp"
#include "scratch_dir.hpp"
#include "trellis/core/train/metrics_log.hpp"
#include "trellis/core/train/progress.hpp"

namespace trellis::core::testing {

/// A fresh run folder under the test's working directory.
inline std::filesystem::path run_dir(const std::string& name) { return scratch_dir("train", name); }

inline const dataset_splits& fashion_mnist() {
  static const dataset_splits splits = open_idx(TRELLIS_FASHION_MNIST_DIR, 10);
  return splits;
}

struct loader_pair {
  loader train, val;
};

/// One rank's loaders: the first `train_subset` training images (shuffled per epoch) and the
/// first `val_subset` test images (0: all of them).
inline loader_pair make_loaders(const dataset_splits& splits, std::size_t batch,
                                std::size_t train_subset, std::size_t val_subset,
                                std::size_t rank = 0, std::size_t world = 1,
                                bool skip_corrupt = false) {
  loader_options o;
  o.batch_size = batch;
  o.rank = rank;
  o.world_size = world;
  o.workers = 1;
  o.sample.seed = 5;
  o.sample.skip_corrupt = skip_corrupt;
  auto train_options = o, val_options = o;
  train_options.subset = train_subset;
  train_options.sample.training = true;
  val_options.subset = val_subset;
  return {loader{splits.train, train_options}, loader{splits.val, val_options}};
}

/// A linear-ReLU-linear net without dropout or BatchNorm: no random op, so runs that see the
/// same data in the same order give the same parameters.
class tiny_net final : public classifier {
 public:
  tiny_net()
      : fc1{register_module("fc1", torch::nn::Linear(28 * 28, 32))},
        fc2{register_module("fc2", torch::nn::Linear(32, 10))} {}
  torch::Tensor forward(torch::Tensor images) override {
    return fc2(torch::relu(fc1(images.flatten(1))));
  }
  [[nodiscard]] std::string head_name() const override { return "fc2"; }

 private:
  torch::nn::Linear fc1, fc2;
};

inline std::shared_ptr<tiny_net> make_tiny_net(std::uint64_t seed = 3) {
  torch::manual_seed(seed);
  return std::make_shared<tiny_net>();
}

/// Another source's samples, where those with index % keep_every != 0 fail to decode.
class corrupting_source final : public sample_source {
 public:
  corrupting_source(std::shared_ptr<const sample_source> inner, std::size_t keep_every)
      : inner_{std::move(inner)}, keep_every_{keep_every} {}
  [[nodiscard]] std::size_t size() const override { return inner_->size(); }
  [[nodiscard]] std::int64_t label(std::size_t i) const override { return inner_->label(i); }
  [[nodiscard]] torch::Tensor image(std::size_t i) const override {
    if (i % keep_every_ != 0) throw data_error{file(i), "corrupt on purpose"};
    return inner_->image(i);
  }
  [[nodiscard]] std::filesystem::path file(std::size_t i) const override { return inner_->file(i); }
  [[nodiscard]] std::filesystem::path origin() const override { return inner_->origin(); }

 private:
  std::shared_ptr<const sample_source> inner_;
  std::size_t keep_every_;
};

/// Settings of the quick runs: SGD, constant rate, nothing printed unless a test wants it.
inline train_config quick_config(const std::filesystem::path& dir) {
  train_config c;
  c.epochs = 1;
  c.lr = 0.05;
  c.schedule = "constant";
  c.batch = 16;
  c.threads = 1;
  c.checkpoint_every = 0;
  c.log_every_steps = 10;
  c.run_dir = dir;
  return c;
}

inline progress_sink quiet() { return {}; }

/// The largest absolute difference between two modules' parameters and buffers.
inline double max_difference(const torch::nn::Module& a, const torch::nn::Module& b) {
  const auto pa = a.named_parameters(), pb = b.named_parameters();
  double worst = 0.0;
  for (const auto& p : pa)
    worst = std::max(worst, (p.value() - pb[p.key()]).abs().max().item<double>());
  const auto ba = a.named_buffers(), bb = b.named_buffers();
  for (const auto& t : ba)
    worst = std::max(
        worst,
        (t.value().to(torch::kDouble) - bb[t.key()].to(torch::kDouble)).abs().max().item<double>());
  return worst;
}

inline std::vector<std::string> lines_of(const std::filesystem::path& file) {
  std::ifstream in{file};
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

/// The "name" field of each metrics.jsonl line, in order.
inline std::vector<std::string> metric_names(const std::filesystem::path& file) {
  std::vector<std::string> names;
  for (const auto& line : lines_of(file)) {
    const auto at = line.find("\"name\":\"") + 8;
    names.push_back(line.substr(at, line.find('"', at) - at));
  }
  return names;
}

}  // namespace trellis::core::testing
