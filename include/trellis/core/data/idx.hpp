// IDX datasets (MNIST, Fashion-MNIST): load_idx pairs an images file with its labels file
// (counts, label range) as tensors, idx_source serves them from memory and open_idx finds the
// train and t10k files under a root. read_idx (idx_file.hpp) reads one file. Errors name the file.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "trellis/core/data/error.hpp"
#include "trellis/core/data/idx_file.hpp"
#include "trellis/core/data/source.hpp"

namespace trellis::core {

/// One split in memory: images uint8 [N, 1, H, W], labels int64 [N].
struct idx_split {
  torch::Tensor images;
  torch::Tensor labels;
};

/// Reads an images file and its labels file and checks that they belong together.
inline idx_split load_idx(const std::filesystem::path& images_file,
                          const std::filesystem::path& labels_file, std::size_t classes) {
  idx_array images = read_idx(images_file);
  if (images.dims.size() != 3)
    throw data_error{images_file, "expected 3 IDX dimensions (images, rows, columns), found " +
                                      detail::join(images.dims, "x")};
  idx_array labels = read_idx(labels_file);
  if (labels.dims.size() != 1)
    throw data_error{labels_file,
                     "expected 1 IDX dimension (labels), found " + detail::join(labels.dims, "x")};
  if (labels.dims[0] != images.dims[0])
    throw data_error{labels_file, "holds " + std::to_string(labels.dims[0]) + " labels but " +
                                      images_file.string() + " holds " +
                                      std::to_string(images.dims[0]) + " images"};
  for (std::size_t i = 0; i < labels.values.size(); ++i) {
    if (labels.values[i] >= classes)
      throw data_error{labels_file, "label " + std::to_string(labels.values[i]) + " of sample " +
                                        std::to_string(i) + " is not below classes<" +
                                        std::to_string(classes) + ">"};
  }
  const auto n = static_cast<std::int64_t>(images.dims[0]);
  const auto h = static_cast<std::int64_t>(images.dims[1]);
  const auto w = static_cast<std::int64_t>(images.dims[2]);
  return {torch::from_blob(images.values.data(), {n, 1, h, w}, torch::kUInt8).clone(),
          torch::from_blob(labels.values.data(), {n}, torch::kUInt8).to(torch::kLong)};
}

/// Serves an idx_split from memory; every sample's file is the images file.
class idx_source final : public sample_source {
 public:
  idx_source(idx_split split, std::filesystem::path images_file)
      : split_{std::move(split)}, file_{std::move(images_file)} {}
  [[nodiscard]] std::size_t size() const override {
    return static_cast<std::size_t>(split_.labels.size(0));
  }
  [[nodiscard]] std::int64_t label(std::size_t i) const override {
    return split_.labels.data_ptr<std::int64_t>()[i];
  }
  [[nodiscard]] torch::Tensor image(std::size_t i) const override {
    return split_.images[static_cast<std::int64_t>(i)];
  }
  [[nodiscard]] std::filesystem::path file(std::size_t) const override { return file_; }
  [[nodiscard]] std::filesystem::path origin() const override { return file_; }
  [[nodiscard]] const idx_split& split() const { return split_; }

 private:
  idx_split split_;
  std::filesystem::path file_;
};

/// The IDX file for e.g. ("train", "images", "idx3") under root: MNIST's and Fashion-MNIST's
/// spellings (train-images-idx3-ubyte, train-images.idx3-ubyte), each raw or .gz.
inline std::filesystem::path find_idx_file(const std::filesystem::path& root,
                                           const std::string& split, const std::string& what,
                                           const std::string& dims) {
  std::vector<std::string> tried;
  for (const char* sep : {"-", "."}) {
    for (const char* ext : {"", ".gz"}) {
      tried.push_back(split + "-" + what + sep + dims + "-ubyte" + ext);
      std::error_code ec;
      if (std::filesystem::is_regular_file(root / tried.back(), ec)) return root / tried.back();
    }
  }
  throw data_error{root, "no " + split + " " + what + " IDX file (looked for " +
                             detail::join(tried, ", ") + ")"};
}

/// Train (train-*) and val (t10k-*) splits of the IDX files under root; class names "0".."N-1".
inline dataset_splits open_idx(const std::filesystem::path& root, std::size_t classes) {
  dataset_splits splits;
  auto open = [&](const std::string& split) {
    const auto images = find_idx_file(root, split, "images", "idx3");
    const auto labels = find_idx_file(root, split, "labels", "idx1");
    return std::make_shared<const idx_source>(load_idx(images, labels, classes), images);
  };
  splits.train = open("train");
  splits.val = open("t10k");
  for (std::size_t c = 0; c < classes; ++c) splits.class_names.push_back(std::to_string(c));
  return splits;
}

}  // namespace trellis::core
