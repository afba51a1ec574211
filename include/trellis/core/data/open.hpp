// dataset_options and open_dataset: a dataset on disk (IDX files or an image folder) opened as
// its train, validation and test sample sources, the validation split its own or held out.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <tuple>
#include <utility>

#include "trellis/core/data/error.hpp"
#include "trellis/core/data/holdout.hpp"
#include "trellis/core/data/idx.hpp"
#include "trellis/core/data/image_folder.hpp"
#include "trellis/core/data/source.hpp"

namespace trellis::core {

enum class dataset_kind {
  idx,           ///< MNIST / Fashion-MNIST IDX files, raw or gzip-compressed
  image_folder,  ///< train/, val/ (and test/) with one folder of PNG/JPEG images per class
};

struct dataset_options {
  dataset_kind kind = dataset_kind::idx;
  std::filesystem::path root;  ///< the image folder, or the folder of the IDX files
  std::size_t classes = 0;     ///< checked against the classes found
  std::size_t channels = 3;    ///< image_folder decodes to 1 or 3 channels; IDX images are gray
  /// The validation split, held out from the training data: a fraction (0.1) or a count (5000)
  /// of it. 0 keeps the dataset's own: image_folder's val/ (IDX files have none, so need one).
  double val_split = 0;
  std::uint64_t split_seed = 0;  ///< which samples val_split holds out; the same on every rank
};

/// Scans or reads `o.root`, checking the class count. With val_split, the validation split is
/// held out from the training data (holdout.hpp); otherwise it is the dataset's own
/// (image_folder's val/). The test split is IDX's t10k files or image_folder's test/, when there
/// is one.
inline dataset_splits open_dataset(const dataset_options& o) {
  const bool held_out = o.val_split > 0;
  dataset_splits splits;
  switch (o.kind) {
    case dataset_kind::idx:
      if (!held_out)
        throw data_error{o.root,
                         "IDX files have no validation split of their own; hold one out "
                         "of the training data with the dataset's val_split (e.g. 0.1)"};
      splits = open_idx(o.root, o.classes);
      splits.test = std::exchange(splits.val, nullptr);  // t10k: the test split
      break;
    case dataset_kind::image_folder:
      splits = open_image_folder(o.root, o.classes, o.channels, /*val_folder=*/!held_out);
      break;
  }
  if (held_out)
    std::tie(splits.train, splits.val) = hold_out(splits.train, o.val_split, o.split_seed);
  return splits;
}

}  // namespace trellis::core
