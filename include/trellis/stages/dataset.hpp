// dataset<kind, classes<N>, input_shape<C,H,W>>{.root = ...}: where images come from and how
// they are transformed. Rules: E006 (static shape), E010 (kind and classes), E029 (classes).
#pragma once
#include <cstddef>
#include <cstdint>

#include "trellis/text.hpp"
#include "trellis/params/data.hpp"
#include "trellis/params/param.hpp"
#include "trellis/stages/stage.hpp"

namespace trellis {

/// A `dataset`'s compile-time values, which rules and plan writers read; the defaults stand
/// for a pipeline without one.
struct dataset_facts {
  param_flags params;
  bool static_shape = false;
  std::size_t classes = 0;
};

/// Per-sample transforms, applied in this order: gray_to_rgb, resize, crop, hflip, normalize.
struct transforms {
  std::size_t resize = 0;    ///< shorter side to this many pixels; 0 keeps the size
  std::size_t crop = 0;      ///< square crop of this size; 0 crops nothing
  bool random_crop = false;  ///< random position when training, centre otherwise
  bool hflip = false;        ///< random horizontal flip when training
  bool gray_to_rgb = false;  ///< repeat one channel three times
  bool normalize = false;
  double mean[3] = {0.485, 0.456, 0.406};
  double std[3] = {0.229, 0.224, 0.225};
};

/// What a `dataset` has of a kind when no parameter of that kind is given.
struct dataset_defaults {
  using dataset_kind = absent;
  using classes = trellis::classes<0>;
  using input_shape = absent;
};

template <class... Ps>
struct dataset {
  static constexpr stage_order order = stage_order::dataset;
  using accepted_kinds = kind_list<kinds::dataset_kind, kinds::classes, kinds::input_shape>;
  using required_kinds = kind_list<kinds::dataset_kind, kinds::classes>;
  using param_kinds = kinds_of<Ps...>;
  /// The parameters given, over the defaults: see given_t.
  using given = given_t<dataset_defaults, Ps...>;
  using source = typename given::dataset_kind;
  using shape = typename given::input_shape;
  static constexpr dataset_facts facts{
      .params = param_flags_v<accepted_kinds, required_kinds, param_kinds>,
      .static_shape = has_kind_v<kinds::input_shape, param_kinds>,
      .classes = given::classes::value};

  /// What a model gets: input_shape<C, H, W>, or without one single-channel images for IDX
  /// files and three-channel ones for an image folder, of any size (height and width 0).
  static constexpr dims input_dims() {
    if constexpr (facts.static_shape) return {shape::channels, shape::height, shape::width};
    else return {__is_same(source, idx) ? std::size_t{1} : std::size_t{3}, 0, 0};
  }

  text root{};               ///< dataset folder (image_folder) or IDX files folder
  transforms transform{};
  std::size_t subset = 0;         ///< use only this many training samples; 0 uses all
  bool skip_corrupt = false;      ///< skip undecodable images (counted) instead of failing
  std::size_t workers = 2;        ///< background decoding threads per rank
  std::size_t prefetch = 4;       ///< batches decoded ahead per rank
  /// The validation split, held out from the training data: a fraction (0.1) or a count (5000)
  /// of it. 0 keeps the dataset's own: image_folder's val/ (IDX files have none, so need one).
  double val_split = 0;
  std::uint64_t split_seed = 0;   ///< which samples val_split holds out; the same on every rank

  template <class Self, class Fields>
  static void fields(Self& self, Fields& f) {
    if constexpr (!std::is_same_v<source, absent>) f.fixed("kind", source::name);
    f.fixed("classes", facts.classes);
    if constexpr (facts.static_shape)
      f.fixed("input_shape", dims{shape::channels, shape::height, shape::width});
    f.setting("root", self.root, not_empty);
    f.setting("subset", self.subset);  // the loader checks it against the samples there are
    f.setting("skip_corrupt", self.skip_corrupt);
    f.setting("workers", self.workers, between(0, 256));
    f.setting("prefetch", self.prefetch, between(1, 1024));
    f.setting("val_split",
              self.val_split);  // the dataset's check: a fraction, or a count below the samples
    f.setting("split_seed", self.split_seed);
    f.setting("transform.resize", self.transform.resize, between(0, 65536));
    f.setting("transform.crop", self.transform.crop, between(0, 65536));
    f.setting("transform.random_crop", self.transform.random_crop);
    f.setting("transform.hflip", self.transform.hflip);
    f.setting("transform.gray_to_rgb", self.transform.gray_to_rgb);
    f.setting("transform.normalize", self.transform.normalize);
    f.setting("transform.mean", self.transform.mean);
    f.setting("transform.std", self.transform.std, above(0));
  }

  /// Settings that each pass their limits but not together: what transforms make of an image
  /// must fit input_shape<C, H, W>.
  template <class Self, class Check>
  static void relations(const Self& self, Check& c) {
    const auto& t = self.transform;
    if (t.resize > 0 && t.crop > t.resize)
      c.refuse("transform.crop", t.crop, "exceeds transform.resize=", t.resize,
               ", the shorter side it crops from");
    if constexpr (facts.static_shape) {
      if (t.crop > 0 && (t.crop != shape::height || t.crop != shape::width))
        c.refuse("transform.crop", t.crop, "makes ", t.crop, "x", t.crop,
                 " images, but input_shape<", shape::channels, ", ", shape::height, ", ",
                 shape::width, "> needs ", shape::height, "x", shape::width);
      if (t.gray_to_rgb && shape::channels != 3)
        c.refuse("transform.gray_to_rgb", t.gray_to_rgb, "makes 3 channels, but input_shape<",
                 shape::channels, ", ", shape::height, ", ", shape::width, "> has ",
                 shape::channels);
    }
  }
};

}  // namespace trellis
