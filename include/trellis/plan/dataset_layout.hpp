// The dry-run check of a dataset folder: IDX files present for `idx`, which need a validation
// split held out (val_split); for `image_folder`, train/ and val/ (or val_split instead of val/)
// and an optional test/ with the same class folders, as many as classes<N>, none empty.
#pragma once
#include <cstddef>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "trellis/plan/run_plan.hpp"

namespace trellis::plan {

namespace fs = std::filesystem;

/// val_split is a fraction (0 < x < 1), a whole count of samples, or 0 (the dataset's own).
inline std::string val_split_problem(double val_split) {
  if (val_split == 0 || (val_split > 0 && val_split < 1) ||
      (val_split >= 1 && val_split == static_cast<double>(static_cast<long long>(val_split))))
    return "";
  return "dataset.val_split = " + std::to_string(val_split) +
         " is neither a fraction between 0 and 1 nor a whole number of samples";
}

inline machine_check check_idx_layout(const fs::path& root, double val_split) {
  machine_check c{"dataset.layout", false, val_split_problem(val_split)};
  if (!c.detail.empty()) return c;
  if (val_split == 0) {
    c.detail = "IDX files have no validation split of their own, and choosing the best epoch on "
               "the t10k test files would overstate the model; hold one out of the training data "
               "with the dataset's .val_split (e.g. 0.1, or --set dataset.val_split=0.1)";
    return c;
  }
  if (!fs::is_directory(root)) {
    c.detail = "dataset folder '" + root.string() + "' does not exist";
    return c;
  }
  for (const char* base : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                           "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}) {
    if (!fs::is_regular_file(root / base) &&
        !fs::is_regular_file(root / (std::string{base} + ".gz"))) {
      c.detail = "'" + (root / base).string() + "' (or .gz) is missing";
      return c;
    }
  }
  c.ok = true;
  c.detail = "IDX train and t10k (test) files in '" + root.string() + "'";
  return c;
}

inline std::set<std::string> class_folders(const fs::path& split) {
  std::set<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(split, ec))
    if (e.is_directory()) names.insert(e.path().filename().string());
  return names;
}

inline machine_check check_image_folder_layout(const fs::path& root, std::size_t classes,
                                               double val_split) {
  machine_check c{"dataset.layout", false, val_split_problem(val_split)};
  if (!c.detail.empty()) return c;
  const bool held_out = val_split > 0;
  if (held_out && fs::is_directory(root / "val")) {
    c.detail = "'" + (root / "val").string() + "' exists and val_split holds one out of train/ "
               "too: use one or the other";
    return c;
  }
  std::vector<std::string> splits{"train"};
  if (!held_out) splits.push_back("val");
  if (fs::is_directory(root / "test")) splits.push_back("test");
  for (const auto& split : splits) {
    if (!fs::is_directory(root / split)) {
      c.detail = "'" + (root / split).string() + "' is not a folder (expected " +
                 root.string() + "/{train,val}/<class>/, or val_split instead of val/)";
      return c;
    }
  }
  const auto train = class_folders(root / "train");
  for (const auto& split : splits) {
    const auto other = class_folders(root / split);
    for (const auto& name : train)
      if (!other.count(name)) {
        c.detail = "class '" + name + "' is in '" + (root / "train").string() + "' but not in '" +
                   (root / split).string() + "'";
        return c;
      }
    for (const auto& name : other)
      if (!train.count(name)) {
        c.detail = "class '" + name + "' is in '" + (root / split).string() + "' but not in '" +
                   (root / "train").string() + "'";
        return c;
      }
  }
  if (train.size() != classes) {
    c.detail = "'" + (root / "train").string() + "' has " + std::to_string(train.size()) +
               " class folders, the pipeline says classes<" + std::to_string(classes) + ">";
    return c;
  }
  for (const auto& split : splits)
    for (const auto& name : train)
      if (fs::is_empty(root / split / name)) {
        c.detail = "'" + (root / split / name).string() + "' has no images";
        return c;
      }
  c.ok = true;
  std::string listed;
  for (const auto& split : splits) listed += (listed.empty() ? "" : ",") + split;
  c.detail = std::to_string(classes) + " classes in '" + root.string() + "/{" + listed + "}'" +
             (held_out ? ", val held out of train" : "");
  return c;
}

}  // namespace trellis::plan
