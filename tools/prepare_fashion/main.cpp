// prepare_fashion: the transfer-learning scenario's data, as PNG image folders, from Debian's
// Fashion-MNIST (no download):
//   <out>/fashion-pretrain/{train,test}/<class>/  T-shirt, trouser, pullover, dress and coat: all
//       their training images (the validation split is held out of train/ by the pipeline) and
//       their test images;
//   <out>/fashion-target/{train,val,test}/<class>/  sandal, shirt, sneaker, bag and ankle boot:
//       120 training and 100 validation images each, as in Azure ML's how-to, drawn from the
//       training images with a fixed seed, and all their test images.
// Idempotent: a folder holding this tool's marker for the same source and recipe is kept; one
// without the marker is never overwritten. A folder is written aside and renamed into place.
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "trellis/core/data/idx.hpp"
#include "trellis/core/data/png_writer.hpp"

namespace fs = std::filesystem;
using trellis::core::idx_array;

namespace {

constexpr const char* class_names[10] = {"t-shirt", "trouser", "pullover", "dress", "coat",
                                         "sandal",  "shirt",   "sneaker",  "bag",   "ankle-boot"};
constexpr int pretrain_classes[] = {0, 1, 2, 3, 4};
constexpr int target_classes[] = {5, 6, 7, 8, 9};
constexpr std::size_t target_train = 120, target_val = 100;
constexpr std::uint64_t seed = 2026;
constexpr const char* marker_name = ".trellis-prepared";
constexpr int recipe_version = 1;

struct split_data {
  idx_array images, labels;
};

split_data read_split(const fs::path& source, const std::string& split) {
  return {trellis::core::read_idx(trellis::core::find_idx_file(source, split, "images", "idx3")),
          trellis::core::read_idx(trellis::core::find_idx_file(source, split, "labels", "idx1"))};
}

/// Indices of each class, in file order.
std::vector<std::vector<std::size_t>> by_class(const split_data& d) {
  std::vector<std::vector<std::size_t>> out(10);
  for (std::size_t i = 0; i < d.labels.values.size(); ++i) out.at(d.labels.values[i]).push_back(i);
  return out;
}

void write_images(const split_data& d, const std::vector<std::size_t>& indices,
                  const fs::path& folder) {
  fs::create_directories(folder);
  const std::size_t h = d.images.dims.at(1), w = d.images.dims.at(2);
  for (const std::size_t i : indices)
    trellis::core::write_png(folder / fmt::format("{:05}.png", i),
                             d.images.values.data() + i * h * w, static_cast<std::uint32_t>(w),
                             static_cast<std::uint32_t>(h), 1);
}

/// What a prepared folder was made from: if any of it changes, the folder is made again.
std::string marker_text(const fs::path& source, const std::string& which) {
  std::string text =
      fmt::format("prepare_fashion recipe {} {} seed {}\n", recipe_version, which, seed);
  for (const auto& split : {"train", "t10k"})
    for (const auto& what : {std::pair{"images", "idx3"}, std::pair{"labels", "idx1"}}) {
      const auto file = trellis::core::find_idx_file(source, split, what.first, what.second);
      text += fmt::format("{} {} bytes\n", fs::absolute(file).string(), fs::file_size(file));
    }
  return text;
}

std::string read_file(const fs::path& file) {
  std::ifstream in(file);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Writes `folder` with `fill` unless it already holds the same marker; returns whether it wrote.
template <class Fill>
bool prepare(const fs::path& folder, const std::string& marker, Fill fill) {
  if (fs::exists(folder)) {
    if (!fs::exists(folder / marker_name))
      throw std::runtime_error(fmt::format(
          "'{}' exists and was not written by prepare_fashion; move it away to prepare it",
          folder.string()));
    if (read_file(folder / marker_name) == marker) return false;
  }
  const fs::path aside = fs::path{folder.string() + fmt::format(".partial-{}", ::getpid())};
  fs::remove_all(aside);
  fill(aside);
  std::ofstream(aside / marker_name) << marker;
  fs::remove_all(folder);
  fs::rename(aside, folder);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  fs::path source = "/usr/share/datasets/fashion-mnist", out = "data";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.starts_with("--source=")) source = a.substr(9);
    else if (a.starts_with("--out=")) out = a.substr(6);
    else {
      std::cerr << "usage: prepare_fashion [--source=FASHION_MNIST_DIR] [--out=DIR]\n";
      return 2;
    }
  }
  try {
    const std::string pretrain_marker = marker_text(source, "pretrain");
    const std::string target_marker = marker_text(source, "target");
    const fs::path pretrain = out / "fashion-pretrain", target = out / "fashion-target";
    if (fs::exists(pretrain / marker_name) &&
        read_file(pretrain / marker_name) == pretrain_marker && fs::exists(target / marker_name) &&
        read_file(target / marker_name) == target_marker) {
      fmt::print("prepare_fashion: {} and {} are ready\n", pretrain.string(), target.string());
      return 0;
    }
    const auto train = read_split(source, "train"), test = read_split(source, "t10k");
    const auto train_by_class = by_class(train), test_by_class = by_class(test);

    const bool wrote_pretrain = prepare(pretrain, pretrain_marker, [&](const fs::path& dir) {
      for (const int c : pretrain_classes) {
        write_images(train, train_by_class[c], dir / "train" / class_names[c]);
        write_images(test, test_by_class[c], dir / "test" / class_names[c]);
      }
    });
    const bool wrote_target = prepare(target, target_marker, [&](const fs::path& dir) {
      std::mt19937_64 engine{seed};
      for (const int c : target_classes) {
        auto indices = train_by_class[c];
        for (std::size_t i = indices.size(); i > 1; --i)  // Fisher-Yates, the same everywhere
          std::swap(indices[i - 1], indices[engine() % i]);
        write_images(train, {indices.begin(), indices.begin() + target_train},
                     dir / "train" / class_names[c]);
        write_images(train,
                     {indices.begin() + target_train, indices.begin() + target_train + target_val},
                     dir / "val" / class_names[c]);
        write_images(test, test_by_class[c], dir / "test" / class_names[c]);
      }
    });
    fmt::print("prepare_fashion: {} {} ({} training images of 5 classes and their test images)\n",
               pretrain.string(), wrote_pretrain ? "written" : "ready", 5 * 6000);
    fmt::print("prepare_fashion: {} {} ({} training and {} validation images per class, and "
               "their test images)\n",
               target.string(), wrote_target ? "written" : "ready", target_train, target_val);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << fmt::format("prepare_fashion: error: {}\n", e.what());
    return 1;
  }
}
