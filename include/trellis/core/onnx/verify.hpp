// verify_file and export_verified: what runs after training, on rank 0. A written ONNX file is
// checked (ONNX checker, strict shape inference, its batch axis), then its graph is run by the
// reference evaluator on sample images and compared with LibTorch's eval-mode outputs. Anything
// short of that is an error; export_verified only leaves a file under the requested name once
// it passed.
#pragma once
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <onnx/onnx_pb.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "trellis/core/models/classifier.hpp"
#include "trellis/core/onnx/error.hpp"
#include "trellis/core/onnx/exporter.hpp"
#include "trellis/core/onnx/model_check.hpp"
#include "trellis/core/onnx/model_file.hpp"
#include "trellis/core/onnx/options.hpp"
#include "trellis/core/onnx/reference_evaluator.hpp"
#include "trellis/core/onnx/trace.hpp"

namespace trellis::core::onnx_export {

/// What a verified export wrote and how it was checked.
struct report {
  std::filesystem::path file;
  std::int64_t opset = 0;
  bool dynamic_batch = true;
  std::map<std::string, int> nodes;  ///< by op type
  int initializers = 0;
  bool checker_passed = false;          ///< onnx::checker::check_model
  bool shape_inference_passed = false;  ///< strict, with type checks
  std::int64_t images_compared = 0;
  double max_abs_diff = 0;  ///< |reference evaluator - LibTorch eval|, over all images compared
  double allowed_diff = 0;  ///< tolerance x max(1, largest |logit|)
};

namespace verify_detail {

inline void check_batch_axis(const ::onnx::ModelProto& model, const options& opts,
                             const std::string& file) {
  for (const auto* info : {&model.graph().input(0), &model.graph().output(0)}) {
    const auto& dim = info->type().tensor_type().shape().dim(0);
    bool fits = opts.dynamic_batch ? dim.has_dim_param() && dim.dim_param() == batch_dim_name
                                   : dim.has_dim_value() && dim.dim_value() == opts.batch_size;
    if (!fits)
      throw error(
          fmt::format("'{}': the batch dimension of '{}' is '{}', expected {}", file, info->name(),
                      dim.has_dim_value() ? std::to_string(dim.dim_value()) : dim.dim_param(),
                      opts.dynamic_batch ? fmt::format("the symbol '{}'", batch_dim_name)
                                         : std::to_string(opts.batch_size)));
  }
}

/// The batches compared: all images and the first alone under a dynamic batch (the graph must
/// not keep the traced batch size anywhere); whole static batches otherwise.
inline std::vector<torch::Tensor> batches(const torch::Tensor& images, const options& opts,
                                          const std::string& file) {
  if (opts.dynamic_batch)
    return images.size(0) > 1 ? std::vector<torch::Tensor>{images, images.narrow(0, 0, 1)}
                              : std::vector<torch::Tensor>{images};
  if (images.size(0) < opts.batch_size)
    throw error(fmt::format("'{}': {} sample images are fewer than the static batch of {}", file,
                            images.size(0), opts.batch_size));
  std::vector<torch::Tensor> out;
  for (std::int64_t start = 0; start + opts.batch_size <= images.size(0); start += opts.batch_size)
    out.push_back(images.narrow(0, start, opts.batch_size));
  return out;
}

/// Full float32 precision for LibTorch's side of the comparison: on Ampere and later GPUs,
/// cuDNN convolutions default to TF32 (10-bit mantissa), far off the 1e-4 the comparison allows.
class float32_precision_guard {
 public:
  float32_precision_guard()
      : cudnn_{at::globalContext().allowTF32CuDNN()},
        cublas_{at::globalContext().allowTF32CuBLAS()} {
    at::globalContext().setAllowTF32CuDNN(false);
    at::globalContext().setAllowTF32CuBLAS(false);
  }
  ~float32_precision_guard() {
    at::globalContext().setAllowTF32CuDNN(cudnn_);
    at::globalContext().setAllowTF32CuBLAS(cublas_);
  }
  float32_precision_guard(const float32_precision_guard&) = delete;
  float32_precision_guard& operator=(const float32_precision_guard&) = delete;

 private:
  bool cudnn_, cublas_;
};

}  // namespace verify_detail

/// Checks `file` as an export of `model` with `opts`, comparing its outputs on `images` [N, C, H,
/// W] with the model's eval-mode outputs (the model's mode is restored afterwards), on whichever
/// device the model is, in full float32 precision.
inline report verify_file(const std::filesystem::path& file, classifier& model, const options& opts,
                          const torch::Tensor& images) {
  auto name = file.string();
  auto proto = check_model_file(file);
  report out{.file = file,
             .opset = proto.opset_import(0).version(),
             .dynamic_batch = opts.dynamic_batch,
             .nodes = count_nodes(proto),
             .initializers = proto.graph().initializer_size(),
             .checker_passed = true,
             .shape_inference_passed = true};
  if (out.opset != opts.opset)
    throw error(fmt::format("'{}': opset {}, expected {}", name, out.opset, opts.opset));
  verify_detail::check_batch_axis(proto, opts, name);

  // The evaluator runs on the CPU, the model wherever it is.
  reference_evaluator evaluator(proto, name);
  eval_mode_guard eval{model};
  torch::NoGradGuard no_grad;
  verify_detail::float32_precision_guard float32;
  auto device = device_of(model);
  for (const auto& batch : verify_detail::batches(images.cpu(), opts, name)) {
    auto expected = model.forward(batch.to(device)).cpu();
    auto actual = evaluator.run(batch);
    if (actual.sizes() != expected.sizes())
      throw error(fmt::format("'{}': outputs {} for images {}; LibTorch gives {}", name,
                              actual.sizes().vec(), batch.sizes().vec(), expected.sizes().vec()));
    out.max_abs_diff = std::max(out.max_abs_diff, (actual - expected).abs().max().item<double>());
    // float32 rounding is relative: summed in another order (folded BatchNorm, another
    // convolution algorithm), logits differ in proportion to their size (ResNet-50 here: 2e-5
    // at logits of 16), so above 1 the bound grows with the largest logit rather than failing
    // a model with large logits on rounding alone.
    out.allowed_diff = std::max(
        out.allowed_diff, opts.tolerance * std::max(1.0, expected.abs().max().item<double>()));
    out.images_compared += batch.size(0);
  }
  if (!(out.max_abs_diff <= out.allowed_diff))  // NaN fails too
    throw error(
        fmt::format("'{}': its outputs differ from LibTorch's by up to {:.3g} on {} images "
                    "(allowed: {:.3g})",
                    name, out.max_abs_diff, out.images_compared, out.allowed_diff));
  return out;
}

/// Exports `model` to opts.file and verifies it on `sample_images` [N, C, H, W] (their C, H, W
/// are the exported input's). The file is written as "<file>.unverified" and renamed to
/// opts.file only once it passed: a failed export leaves no file under the requested name (a
/// file that failed verification stays as "<file>.unverified", for a look at what was wrong).
inline report export_verified(classifier& model, const options& opts,
                              const torch::Tensor& sample_images) {
  if (sample_images.dim() != 4)
    throw error(
        fmt::format("sample images must be [N, C, H, W], not {}", sample_images.sizes().vec()));
  verify_detail::batches(sample_images, opts, opts.file.string());  // enough images, first
  auto proto = to_model(model, opts, sample_images.sizes().slice(1));
  auto unverified = opts.file;
  unverified += ".unverified";
  std::filesystem::remove(opts.file);
  write_model(proto, unverified);
  auto out = verify_file(unverified, model, opts, sample_images);
  std::error_code failed;
  std::filesystem::rename(unverified, opts.file, failed);
  if (failed)
    throw error(fmt::format("cannot rename '{}' to '{}': {}", unverified.string(),
                            opts.file.string(), failed.message()));
  out.file = opts.file;
  return out;
}

}  // namespace trellis::core::onnx_export
