// make_batch: decodes, transforms and stacks some samples of a source into one batch. Its
// result depends only on its arguments, never on which thread runs it; corrupt images are an
// error naming the file, or skipped and counted with skip_corrupt.
#pragma once
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include <torch/types.h>

#include "trellis/core/data/error.hpp"
#include "trellis/core/data/source.hpp"
#include "trellis/core/data/transforms.hpp"

namespace trellis::core {

/// How every sample becomes a tensor.
struct sample_options {
  transform_options transform{};
  bool training = false;      ///< random crop and flip; evaluation uses centre crops
  std::uint64_t seed = 0;     ///< with epoch and sample index, fixes every random choice
  bool skip_corrupt = false;  ///< skip images that fail to decode (counted) instead of failing
  std::array<std::int64_t, 3> shape{};  ///< C, H, W every sample must have; zeros: the first's
};

struct batch {
  torch::Tensor images;     ///< float [B, C, H, W]
  torch::Tensor labels;     ///< int64 [B]
  std::size_t skipped = 0;  ///< corrupt samples left out, so B may be below the batch size
};

/// Builds the batch of `indices` (dataset indices) in `epoch`. Returns early, with whatever it
/// has, once `stop` is set: a stopped loader discards it anyway.
inline batch make_batch(const sample_source& source, const sample_options& options,
                        std::span<const std::size_t> indices, std::uint64_t epoch,
                        const std::atomic<bool>* stop = nullptr) {
  std::vector<torch::Tensor> images;
  std::vector<std::int64_t> labels;
  images.reserve(indices.size());
  batch out;
  std::vector<std::int64_t> shape(options.shape.begin(), options.shape.end());
  for (const std::size_t i : indices) {
    if (stop != nullptr && stop->load(std::memory_order_relaxed)) break;
    torch::Tensor raw;
    try {
      raw = source.image(i);
    } catch (const data_error&) {
      if (!options.skip_corrupt) throw;
      ++out.skipped;
      continue;
    }
    std::mt19937_64 rng = sample_rng(options.seed, epoch, i);
    torch::Tensor x =
        apply_transforms(options.transform, to_float_image(raw), options.training, rng);
    if (shape[0] == 0) shape.assign(x.sizes().begin(), x.sizes().end());
    if (!x.sizes().equals(shape)) {
      throw data_error{source.file(i),
                       "sample " + std::to_string(i) + " is " + detail::join(x.sizes(), "x") +
                           " after transforms, but the batch needs " + detail::join(shape, "x") +
                           ". Fix: set input_shape, transform.resize and transform.crop "
                           "(and transform.gray_to_rgb for gray images) to agree"};
    }
    images.push_back(std::move(x));
    labels.push_back(source.label(i));
  }
  const auto n = static_cast<std::int64_t>(images.size());
  out.images = torch::empty({n, shape[0], shape[1], shape[2]}, torch::kFloat);
  out.labels = torch::empty({n}, torch::kLong);
  const auto sample_floats = static_cast<std::size_t>(shape[0] * shape[1] * shape[2]);
  for (std::int64_t k = 0; k < n; ++k) {
    std::memcpy(out.images.data_ptr<float>() + static_cast<std::size_t>(k) * sample_floats,
                images[static_cast<std::size_t>(k)].data_ptr<float>(),
                sample_floats * sizeof(float));
    out.labels.data_ptr<std::int64_t>()[k] = labels[static_cast<std::size_t>(k)];
  }
  return out;
}

}  // namespace trellis::core
