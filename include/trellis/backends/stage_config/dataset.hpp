// The `dataset` stage as the core's options: dataset_options_for (what open_dataset opens),
// loader_options_for (one rank's loader) and transform_options_for (its per-sample transforms).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <type_traits>

#include "trellis/core/data/loader.hpp"
#include "trellis/core/data/open.hpp"
#include "trellis/core/data/transforms.hpp"
#include "trellis/diagnostics.hpp"
#include "trellis/params/data.hpp"
#include "trellis/stages/dataset.hpp"

namespace trellis::backends {

template <class Kind>
constexpr core::dataset_kind dataset_kind_of() {
  if constexpr (std::is_same_v<Kind, idx>) {
    return core::dataset_kind::idx;
  } else if constexpr (std::is_same_v<Kind, image_folder>) {
    return core::dataset_kind::image_folder;
  } else {
    static_assert(dependent_false<Kind>, "dataset: kind must be idx or image_folder");
    return {};
  }
}

/// What open_dataset opens: the stage's kind, root, classes<N> and splits; image_folder images are
/// decoded to input_shape's channel count (3 without an input_shape).
template <class... Ps>
core::dataset_options dataset_options_for(const dataset<Ps...>& stage) {
  using stage_t = dataset<Ps...>;
  return {.kind = dataset_kind_of<typename stage_t::source>(),
          .root = std::filesystem::path{stage.root.c_str()},
          .classes = stage_t::facts.classes,
          .channels = stage_t::input_dims().channels,
          .val_split = stage.val_split,
          .split_seed = stage.split_seed};
}

inline core::transform_options transform_options_for(const transforms& t) {
  return {.resize = t.resize,
          .crop = t.crop,
          .random_crop = t.random_crop,
          .hflip = t.hflip,
          .gray_to_rgb = t.gray_to_rgb,
          .normalize = t.normalize,
          .mean = std::to_array(t.mean),
          .std = std::to_array(t.std)};
}

/// One rank's loader options from the stage's fields. `training` picks the train split's
/// behaviour (shuffle, random transforms, subset); evaluation uses none of them. With an
/// input_shape every sample must have it.
template <class... Ps>
core::loader_options loader_options_for(const dataset<Ps...>& stage, std::size_t batch_size,
                                        std::size_t rank, std::size_t world_size,
                                        std::uint64_t seed, bool training) {
  using stage_t = dataset<Ps...>;
  core::loader_options o;
  o.batch_size = batch_size;
  o.rank = rank;
  o.world_size = world_size;
  o.subset = training ? stage.subset : 0;
  o.workers = stage.workers;
  o.prefetch = stage.prefetch;
  o.sample.transform = transform_options_for(stage.transform);
  o.sample.training = training;
  o.sample.seed = seed;
  o.sample.skip_corrupt = stage.skip_corrupt;
  if constexpr (stage_t::facts.static_shape) {
    constexpr dims shape = stage_t::input_dims();
    o.sample.shape = {static_cast<std::int64_t>(shape.channels),
                      static_cast<std::int64_t>(shape.height),
                      static_cast<std::int64_t>(shape.width)};
  }
  return o;
}

}  // namespace trellis::backends
