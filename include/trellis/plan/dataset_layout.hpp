// The dry-run check of a dataset folder: IDX files present for `idx`; for `image_folder`,
// train/ and val/ with the same class folders, as many as classes<N>, none empty.
#pragma once
#include <cstddef>
#include <filesystem>
#include <set>
#include <string>

#include "trellis/plan/run_plan.hpp"

namespace trellis::plan {

namespace fs = std::filesystem;

inline machine_check check_idx_layout(const fs::path& root) {
  machine_check c{"dataset.layout", false, ""};
  if (!fs::is_directory(root)) {
    c.detail = "dataset folder '" + root.string() + "' does not exist";
    return c;
  }
  for (const char* base : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                           "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}) {
    if (!fs::is_regular_file(root / base) && !fs::is_regular_file(root / (std::string{base} + ".gz"))) {
      c.detail = "'" + (root / base).string() + "' (or .gz) is missing";
      return c;
    }
  }
  c.ok = true;
  c.detail = "IDX train and t10k files in '" + root.string() + "'";
  return c;
}

inline std::set<std::string> class_folders(const fs::path& split) {
  std::set<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(split, ec))
    if (e.is_directory()) names.insert(e.path().filename().string());
  return names;
}

inline machine_check check_image_folder_layout(const fs::path& root, std::size_t classes) {
  machine_check c{"dataset.layout", false, ""};
  for (const char* split : {"train", "val"}) {
    if (!fs::is_directory(root / split)) {
      c.detail = "'" + (root / split).string() + "' is not a folder (expected " +
                 root.string() + "/{train,val}/<class>/)";
      return c;
    }
  }
  const auto train = class_folders(root / "train");
  const auto val = class_folders(root / "val");
  for (const auto& name : train)
    if (!val.count(name)) {
      c.detail = "class '" + name + "' is in '" + (root / "train").string() + "' but not in '" +
                 (root / "val").string() + "'";
      return c;
    }
  for (const auto& name : val)
    if (!train.count(name)) {
      c.detail = "class '" + name + "' is in '" + (root / "val").string() + "' but not in '" +
                 (root / "train").string() + "'";
      return c;
    }
  if (train.size() != classes) {
    c.detail = "'" + (root / "train").string() + "' has " + std::to_string(train.size()) +
               " class folders, the pipeline says classes<" + std::to_string(classes) + ">";
    return c;
  }
  for (const char* split : {"train", "val"})
    for (const auto& name : train)
      if (fs::is_empty(root / split / name)) {
        c.detail = "'" + (root / split / name).string() + "' has no images";
        return c;
      }
  c.ok = true;
  c.detail = std::to_string(classes) + " classes in '" + root.string() + "/{train,val}'";
  return c;
}

}  // namespace trellis::plan
