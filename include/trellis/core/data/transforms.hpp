// transform_options and apply_transforms: per-sample transforms on one float [C, H, W] image, in
// a fixed order (gray_to_rgb, resize, crop, hflip, normalize). Random choices only in training and
// only from the generator passed in. Plain loops, not ATen ops: loader threads must not start
// OpenMP teams.
#pragma once
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <torch/types.h>

namespace trellis::core {

/// Per-sample transforms, applied in this order: gray_to_rgb, resize, crop, hflip, normalize.
struct transform_options {
  std::size_t resize = 0;    ///< shorter side to this many pixels; 0 keeps the size
  std::size_t crop = 0;      ///< square crop of this size; 0 crops nothing
  bool random_crop = false;  ///< random position when training, centre otherwise
  bool hflip = false;        ///< random horizontal flip when training
  bool gray_to_rgb = false;  ///< repeat one channel three times
  bool normalize = false;
  std::array<double, 3> mean = {0.485, 0.456, 0.406};  ///< per channel (ImageNet's by default)
  std::array<double, 3> std = {0.229, 0.224, 0.225};
};

/// Sample `index`'s own random stream in `epoch`: its crop and flip depend neither on the
/// thread that decodes it nor on how ranks share the data.
inline std::mt19937_64 sample_rng(std::uint64_t seed, std::uint64_t epoch, std::uint64_t index) {
  auto mix = [](std::uint64_t x) {  // splitmix64's finaliser
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
  };
  return std::mt19937_64{mix(mix(mix(seed) ^ epoch) ^ index)};
}

namespace detail {

using index_t = std::int64_t;

inline torch::Tensor empty_image(index_t c, index_t h, index_t w) {
  return torch::empty({c, h, w}, torch::kFloat);
}

inline torch::Tensor zero_image(index_t c, index_t h, index_t w) {
  torch::Tensor out = empty_image(c, h, w);
  std::fill_n(out.data_ptr<float>(), out.numel(), 0.0f);
  return out;
}

/// Where a centred window of `want` starts in `have` pixels: torchvision's
/// int(round((have - want) / 2)) (ties to even), or a negative offset (zero padding).
inline index_t centre_offset(index_t have, index_t want) {
  const index_t d = have - want;
  if (d < 0) return -((-d) / 2);
  return d / 2 + ((d % 2 != 0 && (d / 2) % 2 != 0) ? 1 : 0);
}

/// A triangle filter per output pixel, widened by the shrink factor: torch's bilinear with
/// antialias=true (PIL's bilinear), which is plain bilinear (align_corners=false) when growing.
struct filter_taps {
  index_t taps = 0;
  std::vector<index_t> first, count;
  std::vector<float> weights;  // out x taps
};

inline filter_taps bilinear_taps(index_t in, index_t out) {
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  const double support = std::max(scale, 1.0);
  filter_taps f;
  f.taps = static_cast<index_t>(std::ceil(support)) * 2 + 1;
  f.first.resize(static_cast<std::size_t>(out));
  f.count.resize(static_cast<std::size_t>(out));
  f.weights.assign(static_cast<std::size_t>(out * f.taps), 0.0f);
  for (index_t o = 0; o < out; ++o) {
    const double centre = scale * (static_cast<double>(o) + 0.5);
    const index_t lo = std::max<index_t>(static_cast<index_t>(centre - support + 0.5), 0);
    const index_t hi = std::min<index_t>(static_cast<index_t>(centre + support + 0.5), in);
    float* w = &f.weights[static_cast<std::size_t>(o * f.taps)];
    double total = 0;
    for (index_t j = lo; j < hi; ++j) {
      const double x = std::abs((static_cast<double>(j) - centre + 0.5) / support);
      w[j - lo] = static_cast<float>(x < 1.0 ? 1.0 - x : 0.0);
      total += w[j - lo];
    }
    for (index_t j = 0; total > 0 && j < hi - lo; ++j) w[j] = static_cast<float>(w[j] / total);
    f.first[static_cast<std::size_t>(o)] = lo;
    f.count[static_cast<std::size_t>(o)] = hi - lo;
  }
  return f;
}

/// Bilinear resize of a contiguous float [C, H, W] to [C, out_h, out_w], rows then columns.
inline torch::Tensor resize(const torch::Tensor& image, index_t out_h, index_t out_w) {
  const index_t c = image.size(0), h = image.size(1), w = image.size(2);
  const filter_taps fx = bilinear_taps(w, out_w), fy = bilinear_taps(h, out_h);
  torch::Tensor wide = empty_image(c, h, out_w);
  const float* src = image.data_ptr<float>();
  float* mid = wide.data_ptr<float>();
  for (index_t row = 0; row < c * h; ++row) {
    for (index_t o = 0; o < out_w; ++o) {
      const float* wt = &fx.weights[static_cast<std::size_t>(o * fx.taps)];
      const float* in = src + row * w + fx.first[static_cast<std::size_t>(o)];
      float sum = 0;
      for (index_t k = 0; k < fx.count[static_cast<std::size_t>(o)]; ++k) sum += wt[k] * in[k];
      mid[row * out_w + o] = sum;
    }
  }
  torch::Tensor out = zero_image(c, out_h, out_w);
  float* dst = out.data_ptr<float>();
  for (index_t ch = 0; ch < c; ++ch) {
    for (index_t o = 0; o < out_h; ++o) {
      const float* wt = &fy.weights[static_cast<std::size_t>(o * fy.taps)];
      float* line = dst + (ch * out_h + o) * out_w;
      for (index_t k = 0; k < fy.count[static_cast<std::size_t>(o)]; ++k) {
        const float* in = mid + (ch * h + fy.first[static_cast<std::size_t>(o)] + k) * out_w;
        for (index_t x = 0; x < out_w; ++x) line[x] += wt[k] * in[x];
      }
    }
  }
  return out;
}

/// Resizes so the shorter side is `size`; the longer one as torchvision: int(size * long / short).
inline torch::Tensor resize_shorter(const torch::Tensor& image, index_t size) {
  const index_t h = image.size(1), w = image.size(2);
  const index_t out_h = h <= w ? size : size * h / w;
  const index_t out_w = h <= w ? size * w / h : size;
  return out_h == h && out_w == w ? image : resize(image, out_h, out_w);
}

/// A size x size window at (top, left); parts outside the image are zero (torchvision pads).
inline torch::Tensor crop(const torch::Tensor& image, index_t top, index_t left, index_t size) {
  const index_t c = image.size(0), h = image.size(1), w = image.size(2);
  torch::Tensor out = zero_image(c, size, size);
  const float* src = image.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  const index_t x0 = std::max<index_t>(left, 0), x1 = std::min<index_t>(left + size, w);
  for (index_t ch = 0; ch < c && x0 < x1; ++ch) {
    for (index_t y = std::max<index_t>(top, 0); y < std::min<index_t>(top + size, h); ++y) {
      std::memcpy(dst + (ch * size + y - top) * size + (x0 - left), src + (ch * h + y) * w + x0,
                  static_cast<std::size_t>(x1 - x0) * sizeof(float));
    }
  }
  return out;
}

inline torch::Tensor hflip(const torch::Tensor& image) {
  torch::Tensor out = torch::empty_like(image);
  const index_t w = image.size(2), rows = image.size(0) * image.size(1);
  const float* src = image.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  for (index_t r = 0; r < rows; ++r) std::reverse_copy(src + r * w, src + (r + 1) * w, dst + r * w);
  return out;
}

inline torch::Tensor gray_to_rgb(const torch::Tensor& image) {
  if (image.size(0) != 1) return image;
  torch::Tensor out = empty_image(3, image.size(1), image.size(2));
  const auto plane = static_cast<std::size_t>(image.size(1) * image.size(2));
  for (std::size_t c = 0; c < 3; ++c)
    std::memcpy(out.data_ptr<float>() + c * plane, image.data_ptr<float>(), plane * sizeof(float));
  return out;
}

inline torch::Tensor normalize(const torch::Tensor& image, const std::array<double, 3>& mean,
                               const std::array<double, 3>& stdev) {
  const index_t c = image.size(0), plane = image.size(1) * image.size(2);
  if (c > 3) throw std::invalid_argument{"normalize: at most 3 channels"};
  torch::Tensor out = torch::empty_like(image);
  const float* src = image.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  for (index_t ch = 0; ch < c; ++ch) {
    if (!(stdev[ch] > 0)) throw std::invalid_argument{"normalize: std must be positive"};
    const auto m = static_cast<float>(mean[ch]);
    const auto inv = static_cast<float>(1.0 / stdev[ch]);
    for (index_t i = ch * plane; i < (ch + 1) * plane; ++i) dst[i] = (src[i] - m) * inv;
  }
  return out;
}

}  // namespace detail

/// uint8 [C, H, W] to float in [0, 1].
inline torch::Tensor to_float_image(const torch::Tensor& image) {
  const torch::Tensor in = image.contiguous();
  torch::Tensor out = torch::empty(in.sizes(), torch::kFloat);
  const std::uint8_t* src = in.data_ptr<std::uint8_t>();
  float* dst = out.data_ptr<float>();
  for (std::int64_t i = 0, n = in.numel(); i < n; ++i) dst[i] = static_cast<float>(src[i]) / 255.0f;
  return out;
}

/// Applies `t` to a float [C, H, W] image. Crop position and flip are drawn from `rng` only
/// when `training` (centre crop, no flip otherwise).
inline torch::Tensor apply_transforms(const transform_options& t, const torch::Tensor& image,
                                      bool training, std::mt19937_64& rng) {
  if (image.dim() != 3 || image.scalar_type() != torch::kFloat)
    throw std::invalid_argument{"apply_transforms: expects a float [C, H, W] image"};
  torch::Tensor x = image.contiguous();
  if (t.gray_to_rgb) x = detail::gray_to_rgb(x);
  if (t.resize > 0) x = detail::resize_shorter(x, static_cast<detail::index_t>(t.resize));
  if (t.crop > 0) {
    const auto size = static_cast<detail::index_t>(t.crop);
    const detail::index_t h = x.size(1), w = x.size(2);
    const bool random = training && t.random_crop;
    auto offset = [&](detail::index_t have) {
      if (!random || have < size) return detail::centre_offset(have, size);
      return static_cast<detail::index_t>(rng() % static_cast<std::uint64_t>(have - size + 1));
    };
    const detail::index_t top = offset(h);
    const detail::index_t left = offset(w);
    x = detail::crop(x, top, left, size);
  }
  if (training && t.hflip && (rng() >> 63) != 0) x = detail::hflip(x);
  if (t.normalize) x = detail::normalize(x, t.mean, t.std);
  return x;
}

}  // namespace trellis::core
