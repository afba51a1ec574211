// holdout: a validation split held out from the training data, so that choosing the best epoch
// never looks at test data. Stratified (each class keeps its share), chosen by a seeded
// permutation of its own, so every rank and every rerun holds out the same samples.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "trellis/core/data/source.hpp"

namespace trellis::core {

/// Some samples of another source, by index.
class subset_source final : public sample_source {
 public:
  subset_source(std::shared_ptr<const sample_source> parent, std::vector<std::size_t> indices)
      : parent_{std::move(parent)}, indices_{std::move(indices)} {}
  [[nodiscard]] std::size_t size() const override { return indices_.size(); }
  [[nodiscard]] std::int64_t label(std::size_t i) const override {
    return parent_->label(indices_[i]);
  }
  [[nodiscard]] torch::Tensor image(std::size_t i) const override {
    return parent_->image(indices_[i]);
  }
  [[nodiscard]] std::filesystem::path file(std::size_t i) const override {
    return parent_->file(indices_[i]);
  }
  [[nodiscard]] std::filesystem::path origin() const override { return parent_->origin(); }
  /// The parent's indices, in order.
  [[nodiscard]] const std::vector<std::size_t>& indices() const { return indices_; }

 private:
  std::shared_ptr<const sample_source> parent_;
  std::vector<std::size_t> indices_;
};

/// The training and validation parts of `data`. `split` is a fraction of it (0 < split < 1) or
/// a count of samples (a whole number from 1); each class gives the same share, the largest
/// remainders rounding a count up. `seed` picks which; the same seed picks the same samples.
inline std::pair<std::shared_ptr<const sample_source>, std::shared_ptr<const sample_source>>
hold_out(const std::shared_ptr<const sample_source>& data, double split, std::uint64_t seed) {
  const std::size_t n = data->size();
  const bool fraction = split > 0 && split < 1;
  if (!(fraction || (split >= 1 && split == std::floor(split) && split < static_cast<double>(n))))
    throw std::invalid_argument{"dataset: val_split " + std::to_string(split) +
                                " is neither a fraction between 0 and 1 nor a whole number of "
                                "samples below the " + std::to_string(n) + " training samples"};
  const double share = fraction ? split : split / static_cast<double>(n);
  std::map<std::int64_t, std::vector<std::size_t>> by_class;
  for (std::size_t i = 0; i < n; ++i) by_class[data->label(i)].push_back(i);

  // Each class's quota, its remainder, and (for a count) the largest remainders rounded up.
  std::vector<std::pair<double, std::int64_t>> remainders;
  std::map<std::int64_t, std::size_t> quota;
  std::size_t taken = 0;
  for (const auto& [label, indices] : by_class) {
    const double exact = share * static_cast<double>(indices.size());
    quota[label] = fraction ? static_cast<std::size_t>(std::llround(exact))
                            : static_cast<std::size_t>(std::floor(exact));
    taken += quota[label];
    remainders.emplace_back(exact - std::floor(exact), label);
  }
  if (!fraction) {
    std::sort(remainders.begin(), remainders.end(), std::greater<>{});
    for (std::size_t k = 0; taken < static_cast<std::size_t>(split); ++k, ++taken)
      ++quota[remainders[k % remainders.size()].second];
  }

  std::mt19937_64 engine{seed ^ 0x9e3779b97f4a7c15ULL};
  std::vector<std::size_t> train, val;
  for (auto& [label, indices] : by_class) {
    for (std::size_t i = indices.size(); i > 1; --i)  // Fisher-Yates, the same on every library
      std::swap(indices[i - 1], indices[engine() % i]);
    const std::size_t q = std::min(quota[label], indices.size());
    val.insert(val.end(), indices.begin(), indices.begin() + static_cast<std::ptrdiff_t>(q));
    train.insert(train.end(), indices.begin() + static_cast<std::ptrdiff_t>(q), indices.end());
  }
  std::sort(train.begin(), train.end());
  std::sort(val.begin(), val.end());
  return {std::make_shared<const subset_source>(data, std::move(train)),
          std::make_shared<const subset_source>(data, std::move(val))};
}

}  // namespace trellis::core
