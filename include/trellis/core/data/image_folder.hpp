// image_folder: root/train/<class>/*, root/val/<class>/* and optionally root/test/<class>/* with
// PNG and JPEG files. Classes are the sorted folder names; every split must have the same ones,
// as many as classes<N>. Images are decoded when a loader asks for them; hidden files and other
// extensions are ignored.
#pragma once
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "trellis/core/data/error.hpp"
#include "trellis/core/data/image.hpp"
#include "trellis/core/data/source.hpp"

namespace trellis::core {

struct image_folder_sample {
  std::filesystem::path file;
  std::int64_t label = 0;
};

/// One split's files, decoded on demand to `channels` (1 or 3) channels.
class image_folder_source final : public sample_source {
 public:
  image_folder_source(std::filesystem::path folder, std::vector<image_folder_sample> samples,
                      std::size_t channels)
      : folder_{std::move(folder)}, samples_{std::move(samples)}, channels_{channels} {}
  [[nodiscard]] std::size_t size() const override { return samples_.size(); }
  [[nodiscard]] std::int64_t label(std::size_t i) const override { return samples_[i].label; }
  [[nodiscard]] torch::Tensor image(std::size_t i) const override {
    return read_image(samples_[i].file, channels_);
  }
  [[nodiscard]] std::filesystem::path file(std::size_t i) const override {
    return samples_[i].file;
  }
  [[nodiscard]] std::filesystem::path origin() const override { return folder_; }
  [[nodiscard]] const std::vector<image_folder_sample>& samples() const { return samples_; }

 private:
  std::filesystem::path folder_;
  std::vector<image_folder_sample> samples_;
  std::size_t channels_;
};

namespace detail {

inline bool is_hidden(const std::filesystem::path& p) {
  return p.filename().string().starts_with('.');
}

inline bool has_image_extension(const std::filesystem::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

/// The entries of `folder` that pass `keep`, sorted by name; data_error when unreadable.
template <class Keep>
std::vector<std::filesystem::path> list_sorted(const std::filesystem::path& folder, Keep keep) {
  std::error_code ec;
  std::vector<std::filesystem::path> found;
  for (std::filesystem::directory_iterator it{folder, ec}, end; !ec && it != end; it.increment(ec))
    if (!is_hidden(it->path()) && keep(*it)) found.push_back(it->path());
  if (ec) throw data_error{folder, "cannot list folder: " + ec.message()};
  std::sort(found.begin(), found.end());
  return found;
}

inline std::vector<std::string> class_folders(const std::filesystem::path& split) {
  std::error_code ec;
  if (!std::filesystem::is_directory(split, ec))
    throw data_error{split,
                     "missing folder (image_folder needs train/ and val/, one sub-folder "
                     "per class)"};
  std::vector<std::string> names;
  for (const auto& p : list_sorted(split, [](const auto& e) {
         std::error_code ignored;
         return e.is_directory(ignored);
       }))
    names.push_back(p.filename().string());
  return names;
}

inline void require_same_classes(const std::filesystem::path& root,
                                 const std::vector<std::string>& train,
                                 const std::vector<std::string>& val) {
  for (const auto& name : train)
    if (!std::binary_search(val.begin(), val.end(), name))
      throw data_error{root / "val",
                       "split val has no folder for class '" + name + "' (train has one)"};
  for (const auto& name : val)
    if (!std::binary_search(train.begin(), train.end(), name))
      throw data_error{root / "train",
                       "split train has no folder for class '" + name + "' (val has one)"};
}

inline std::vector<image_folder_sample> scan_split(const std::filesystem::path& split,
                                                   const std::vector<std::string>& classes) {
  std::vector<image_folder_sample> samples;
  for (std::size_t label = 0; label < classes.size(); ++label) {
    const auto folder = split / classes[label];
    const auto files = list_sorted(folder, [](const auto& e) {
      std::error_code ignored;
      return e.is_regular_file(ignored) && has_image_extension(e.path());
    });
    if (files.empty()) throw data_error{folder, "class folder holds no .png/.jpg/.jpeg file"};
    for (const auto& f : files) samples.push_back({f, static_cast<std::int64_t>(label)});
  }
  return samples;
}

}  // namespace detail

/// root/<split>/<class>/* for the classes another split found, or null when root/<split> does not
/// exist (an optional split: test/); class folders it lacks or adds are data_errors.
inline std::shared_ptr<const image_folder_source> open_image_folder_split(
    const std::filesystem::path& root, const std::string& split,
    const std::vector<std::string>& classes, std::size_t channels) {
  std::error_code ec;
  if (!std::filesystem::is_directory(root / split, ec)) return nullptr;
  const auto found = detail::class_folders(root / split);
  if (found != classes)
    throw data_error{root / split, "has class folders " + detail::join(found, ", ") +
                                       "; train has " + detail::join(classes, ", ")};
  return std::make_shared<const image_folder_source>(
      root / split, detail::scan_split(root / split, found), channels);
}

/// Scans root/train, root/val (unless `val_folder` is false: the validation split is then held
/// out from train, see holdout.hpp) and root/test when it exists; `classes` is the pipeline's
/// classes<N>, `channels` what every image is decoded to (1 or 3).
inline dataset_splits open_image_folder(const std::filesystem::path& root, std::size_t classes,
                                        std::size_t channels = 3, bool val_folder = true) {
  if (channels != 1 && channels != 3)
    throw std::invalid_argument{"image_folder: images are decoded to 1 or 3 channels, not " +
                                std::to_string(channels)};
  const auto train = detail::class_folders(root / "train");
  if (val_folder) detail::require_same_classes(root, train, detail::class_folders(root / "val"));
  if (train.size() != classes) {
    throw data_error{root / "train", "found " + std::to_string(train.size()) + " class folders (" +
                                         detail::join(train, ", ") +
                                         ") but the pipeline declares classes<" +
                                         std::to_string(classes) + ">"};
  }
  dataset_splits splits;
  splits.train = std::make_shared<const image_folder_source>(
      root / "train", detail::scan_split(root / "train", train), channels);
  if (val_folder)
    splits.val = std::make_shared<const image_folder_source>(
        root / "val", detail::scan_split(root / "val", train), channels);
  splits.test = open_image_folder_split(root, "test", train, channels);
  splits.class_names = train;
  return splits;
}

}  // namespace trellis::core
