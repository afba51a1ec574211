// open_dataset and loader_options_for: a `dataset` stage turned into its train and val sample
// sources (by kind: idx or image_folder) and into the options of one rank's loader.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <tuple>
#include <type_traits>
#include <utility>

#include "trellis/core/data/error.hpp"
#include "trellis/core/data/holdout.hpp"
#include "trellis/core/data/idx.hpp"
#include "trellis/core/data/image_folder.hpp"
#include "trellis/core/data/loader.hpp"
#include "trellis/core/data/source.hpp"
#include "trellis/stages/dataset.hpp"

namespace trellis::core {

namespace detail {
template <class>
inline constexpr bool unknown_dataset_kind = false;
}  // namespace detail

/// Scans or reads the stage's root; class count checked against classes<N>. image_folder
/// images are decoded to input_shape's channel count (3 without an input_shape). With val_split,
/// the validation split is held out from the training data (holdout.hpp); otherwise it is the
/// dataset's own (image_folder's val/). The test split is IDX's t10k files or image_folder's
/// test/, when there is one.
template <class... Ps>
dataset_splits open_dataset(const trellis::dataset<Ps...>& stage) {
  using stage_t = trellis::dataset<Ps...>;
  using kind = typename stage_t::source;
  const std::filesystem::path root{stage.root.c_str()};
  const bool held_out = stage.val_split > 0;
  dataset_splits splits;
  if constexpr (std::is_same_v<kind, trellis::idx>) {
    if (!held_out)
      throw data_error{root, "IDX files have no validation split of their own; hold one out of "
                             "the training data with the dataset's val_split (e.g. 0.1)"};
    splits = open_idx(root, stage_t::facts.classes);
    splits.test = std::exchange(splits.val, nullptr);  // t10k: the test split
  } else if constexpr (std::is_same_v<kind, trellis::image_folder>) {
    std::size_t channels = 3;
    if constexpr (stage_t::facts.static_shape) channels = stage_t::shape::channels;
    splits = open_image_folder(root, stage_t::facts.classes, channels, /*val_folder=*/!held_out);
  } else {
    static_assert(detail::unknown_dataset_kind<kind>, "dataset: kind must be idx or image_folder");
  }
  if (held_out) std::tie(splits.train, splits.val) = hold_out(splits.train, stage.val_split, stage.split_seed);
  return splits;
}

/// One rank's loader options from the stage's fields. `training` picks the train split's
/// behaviour (shuffle, random transforms, subset); evaluation uses none of them.
template <class... Ps>
loader_options loader_options_for(const trellis::dataset<Ps...>& stage, std::size_t batch_size,
                                  std::size_t rank, std::size_t world_size, std::uint64_t seed,
                                  bool training) {
  using stage_t = trellis::dataset<Ps...>;
  loader_options o;
  o.batch_size = batch_size;
  o.rank = rank;
  o.world_size = world_size;
  o.subset = training ? stage.subset : 0;
  o.workers = stage.workers;
  o.prefetch = stage.prefetch;
  o.sample.transform = stage.transform;
  o.sample.training = training;
  o.sample.seed = seed;
  o.sample.skip_corrupt = stage.skip_corrupt;
  if constexpr (stage_t::facts.static_shape) {
    o.sample.shape = {static_cast<std::int64_t>(stage_t::shape::channels),
                      static_cast<std::int64_t>(stage_t::shape::height),
                      static_cast<std::int64_t>(stage_t::shape::width)};
  }
  return o;
}

}  // namespace trellis::core
