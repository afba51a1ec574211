// IDX files (MNIST, Fashion-MNIST), raw or gzip: read_idx checks one file (magic, dimensions,
// size), load_idx pairs images with labels (counts, label range), idx_source serves them from
// memory and open_idx finds the train and t10k files under a root. Errors name the file.
#pragma once
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "trellis/core/data/error.hpp"
#include "trellis/core/data/source.hpp"

namespace trellis::core {

/// An unsigned-byte IDX array: its dimensions and its values in row-major order.
struct idx_array {
  std::vector<std::size_t> dims;
  std::vector<std::uint8_t> values;
};

namespace detail {

/// A gzip or plain file read through zlib (gzread passes plain files through unchanged).
class gz_reader {
 public:
  explicit gz_reader(std::filesystem::path file)
      : file_{std::move(file)}, f_{(errno = 0, gzopen(file_.c_str(), "rb"))} {
    if (f_ == nullptr)
      throw data_error{file_, std::string{"cannot open: "} +
                                  (errno != 0 ? std::strerror(errno) : "out of memory")};
    gzbuffer(f_, 1 << 17);
  }
  gz_reader(const gz_reader&) = delete;
  gz_reader& operator=(const gz_reader&) = delete;
  ~gz_reader() { gzclose(f_); }

  /// Up to n bytes; fewer only where the data ends. data_error on damaged gzip data.
  std::size_t read(void* out, std::size_t n) {
    std::size_t total = 0;
    while (total < n) {
      const auto want = static_cast<unsigned>(std::min<std::size_t>(n - total, 1u << 30));
      const int got = gzread(f_, static_cast<char*>(out) + total, want);
      if (got < 0) fail();
      if (got == 0) break;
      total += static_cast<std::size_t>(got);
    }
    int status = Z_OK;
    if (total < n) gzerror(f_, &status);
    if (status != Z_OK) fail();  // Z_BUF_ERROR: the gzip stream stops early
    return total;
  }

 private:
  [[noreturn]] void fail() {
    int status = Z_OK;
    const char* message = gzerror(f_, &status);
    if (status == Z_ERRNO) message = std::strerror(errno);
    if (status == Z_BUF_ERROR) message = "truncated gzip data (unexpected end of file)";
    throw data_error{file_, std::string{"cannot read: "} + message};
  }

  std::filesystem::path file_;
  gzFile f_;
};

/// IDX arrays above this many values are refused (a corrupt header can claim 2^128).
inline constexpr std::size_t max_idx_values = std::size_t{1} << 34;

}  // namespace detail

/// Reads one unsigned-byte IDX file, raw or gzip, and checks that its size matches its header.
inline idx_array read_idx(const std::filesystem::path& file) {
  detail::gz_reader in{file};
  unsigned char header[4];
  if (in.read(header, 4) < 4) throw data_error{file, "not an IDX file (shorter than 4 bytes)"};
  if (header[0] != 0 || header[1] != 0) {
    char magic[16];
    std::snprintf(magic, sizeof magic, "0x%02X%02X%02X%02X", header[0], header[1], header[2],
                  header[3]);
    throw data_error{file, std::string{"not an IDX file (magic number "} + magic +
                               " does not start with two zero bytes)"};
  }
  if (header[2] != 0x08)
    throw data_error{file, "IDX element type " + std::to_string(header[2]) +
                               " is not supported (only unsigned bytes, type 8)"};
  if (header[3] == 0) throw data_error{file, "IDX header declares no dimensions"};

  idx_array a;
  std::size_t count = 1;
  for (std::size_t i = 0; i < header[3]; ++i) {
    unsigned char b[4];
    if (in.read(b, 4) < 4) throw data_error{file, "truncated IDX header"};
    const std::size_t d = std::size_t{b[0]} << 24 | std::size_t{b[1]} << 16 |
                          std::size_t{b[2]} << 8 | std::size_t{b[3]};
    if (d == 0) throw data_error{file, "IDX dimension " + std::to_string(i) + " is 0"};
    if (count > detail::max_idx_values / d)
      throw data_error{file, "IDX header declares too many values"};
    count *= d;
    a.dims.push_back(d);
  }
  // Grows in chunks, so a header that promises more than the file holds allocates no more.
  while (a.values.size() < count) {
    const std::size_t have = a.values.size();
    const std::size_t want = std::min<std::size_t>(count - have, std::size_t{1} << 24);
    a.values.resize(have + want);
    const std::size_t got = in.read(a.values.data() + have, want);
    if (got < want) {
      throw data_error{file, "truncated: the header declares " + detail::join(a.dims, "x") + " = " +
                                 std::to_string(count) + " values, the file holds " +
                                 std::to_string(have + got)};
    }
  }
  unsigned char extra;
  if (in.read(&extra, 1) != 0)
    throw data_error{file, "longer than its header (" + detail::join(a.dims, "x") +
                               ") declares: trailing bytes"};
  return a;
}

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
