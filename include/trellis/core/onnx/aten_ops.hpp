// The aten ops trellis exports and the ONNX nodes each becomes: convolution (with BatchNorm
// folded in when lowering says so), BatchNorm, ReLU, max/average/global pooling, flatten and
// batch-keeping reshapes, Linear (Gemm, transB=1), add, mean over spatial axes; Dropout and
// other eval-mode identities produce no node. Anything else is an error naming the op.
#pragma once
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "trellis/core/onnx/fold_batch_norm.hpp"
#include "trellis/core/onnx/lowering.hpp"

namespace trellis::core::onnx_export {

using converter = void (*)(lowering&, const Node*);

namespace aten_ops {

inline bool is_convolution(const Node* n) {
  auto kind = n->kind();
  return kind == c10::aten::_convolution || kind == c10::aten::convolution ||
         kind == c10::aten::conv2d;
}

/// A two-entry spatial argument ([k] means [k, k]); `fallback` when the list is empty.
inline std::vector<std::int64_t> pair(const lowering& l, const Node* n, std::size_t i,
                                      std::string_view what,
                                      const std::vector<std::int64_t>& fallback = {}) {
  auto values = l.integers(n, i, what);
  if (values.empty() && !fallback.empty()) return fallback;
  if (values.size() == 1) values.push_back(values[0]);
  if (values.size() != 2) l.fail(n, fmt::format("its {} {} is not two-dimensional", what, values));
  return values;
}
inline std::vector<std::int64_t> pads(const std::vector<std::int64_t>& padding) {
  return {padding[0], padding[1], padding[0], padding[1]};  // ONNX: all begins, then all ends
}
inline void require_rank(const lowering& l, const Node* n, const Value* v, std::size_t rank,
                         std::string_view what) {
  auto shape = lowering::sizes(v);
  if (shape.size() != rank)
    l.fail(n, fmt::format("{} has shape {}; the export supports rank {} here", what, shape, rank));
}
inline const weight& required_weight(const lowering& l, const Node* n, std::size_t i,
                                     std::string_view what) {
  const auto* w = l.weight_of(n->input(i));
  if (!w)
    l.fail(n, fmt::format("its {} is computed in forward; the export needs a parameter", what));
  return *w;
}
/// A weight, or an undefined tensor for None; anything else is an error.
inline torch::Tensor optional_weight(const lowering& l, const Node* n, std::size_t i,
                                     std::string_view what) {
  return l.is_none(n, i) ? torch::Tensor() : required_weight(l, n, i, what).value;
}

// aten::_convolution / convolution (input, weight, bias, stride, padding, dilation, transposed,
// output_padding, groups, ...) and aten::conv2d (input, weight, bias, stride, padding, dilation,
// groups).
inline void convolution(lowering& l, const Node* n) {
  bool conv2d = n->kind() == c10::aten::conv2d;
  if (!conv2d && l.boolean(n, 6, "transposed flag"))
    l.fail(n, "transposed convolutions are not supported");
  const auto& w = required_weight(l, n, 1, "weight");
  if (w.value.dim() != 4) l.fail(n, "only 2-d convolutions are supported");
  auto stride = pair(l, n, 3, "stride");
  auto padding = pair(l, n, 4, "padding");
  auto dilation = pair(l, n, 5, "dilation");
  auto groups = l.integer(n, conv2d ? 6 : 8, "groups");
  auto layer = w.layer();

  std::vector<std::string> inputs{l.input(n->input(0))};
  if (const auto* bn = l.folded_into(n)) {
    auto folded = fold_batch_norm(
        w.value, optional_weight(l, n, 2, "bias"), optional_weight(l, bn, 1, "BatchNorm weight"),
        optional_weight(l, bn, 2, "BatchNorm bias"),
        required_weight(l, bn, 3, "running mean").value,
        required_weight(l, bn, 4, "running variance").value, l.number(bn, 7, "epsilon"));
    inputs.push_back(l.out.initializer(layer + ".weight.bn_folded", folded.weight));
    inputs.push_back(l.out.initializer(layer + ".bias.bn_folded", folded.bias));
  } else {
    inputs.push_back(l.input(n->input(1)));
    if (!l.is_none(n, 2)) inputs.push_back(l.input(n->input(2)));
  }
  auto& node = l.emit("Conv", n, inputs, layer);
  graph_writer::set(node, "dilations", dilation);
  graph_writer::set(node, "group", groups);
  graph_writer::set(node, "kernel_shape",
                    std::vector<std::int64_t>{w.value.size(2), w.value.size(3)});
  graph_writer::set(node, "pads", pads(padding));
  graph_writer::set(node, "strides", stride);
}

// aten::batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, ...)
inline void batch_norm(lowering& l, const Node* n) {
  if (l.is_folded(n)) {  // its convolution computes it
    l.alias(n->output(), n->input(0));
    return;
  }
  if (l.boolean(n, 5, "training flag"))
    l.fail(n, "BatchNorm runs in training mode although the model is in eval mode");
  if (l.is_none(n, 3) || l.is_none(n, 4))
    l.fail(n,
           "BatchNorm without running statistics (track_running_stats=false) normalises with "
           "each batch's statistics; ONNX export needs running statistics");
  const auto& mean = required_weight(l, n, 3, "running mean");
  auto channels = mean.value.size(0);
  auto layer = mean.layer();
  // Affine parameters, or what BatchNorm without them uses: scale 1, bias 0.
  auto parameter = [&](std::size_t i, const char* suffix, double fill) {
    if (l.is_none(n, i))
      return l.out.initializer(layer + suffix, torch::full({channels}, fill, torch::kFloat));
    required_weight(l, n, i, suffix + 1);
    return l.input(n->input(i));
  };
  auto& node = l.emit("BatchNormalization", n,
                      {l.input(n->input(0)), parameter(1, ".weight", 1.0),
                       parameter(2, ".bias", 0.0), l.input(n->input(3)), l.input(n->input(4))},
                      layer);
  graph_writer::set(node, "epsilon", static_cast<float>(l.number(n, 7, "epsilon")));
  // ONNX's momentum weighs the old statistic, PyTorch's the new one (unused in inference).
  graph_writer::set(node, "momentum", static_cast<float>(1.0 - l.number(n, 6, "momentum")));
}

inline void relu(lowering& l, const Node* n) { l.emit("Relu", n, {l.input(n->input(0))}); }

/// A pooling's window: arguments 1 to 3 of both aten poolings (the stride is the kernel when
/// not given), and the ONNX attributes they become.
struct pool_window {
  std::vector<std::int64_t> kernel, stride, padding;

  pool_window(const lowering& l, const Node* n)
      : kernel{pair(l, n, 1, "kernel size")},
        stride{pair(l, n, 2, "stride", kernel)},
        padding{pair(l, n, 3, "padding")} {
    require_rank(l, n, n->input(0), 4, "its input");
  }
  void set(::onnx::NodeProto& node) const {
    graph_writer::set(node, "kernel_shape", kernel);
    graph_writer::set(node, "pads", pads(padding));
    graph_writer::set(node, "strides", stride);
  }
};

/// The pooling ceil_mode ONNX gets: 0 when ceil and floor give the same sizes here; 1 when
/// PyTorch's sizes are ONNX's ceil sizes; otherwise the two disagree (a window would start in
/// the padding, which PyTorch drops) and the export fails.
inline std::int64_t ceil_mode(const lowering& l, const Node* n, bool ceil, const pool_window& w,
                              const std::vector<std::int64_t>& dilation) {
  if (!ceil) return 0;
  auto in = lowering::sizes(n->input(0));
  auto out = lowering::sizes(n->output());
  bool floor_matches = true, ceil_matches = true;
  for (std::size_t d = 0; d < 2; ++d) {
    auto span = in[d + 2] + 2 * w.padding[d] - dilation[d] * (w.kernel[d] - 1) - 1;
    floor_matches = floor_matches && out[d + 2] == span / w.stride[d] + 1;
    ceil_matches = ceil_matches && out[d + 2] == (span + w.stride[d] - 1) / w.stride[d] + 1;
  }
  if (floor_matches) return 0;
  if (!ceil_matches)
    l.fail(n,
           "with ceil_mode its last window starts in the padding, which ONNX pools and "
           "PyTorch drops");
  if (l.opset() < 10) l.fail(n, "ceil_mode needs opset 10 or later");
  return 1;
}

// aten::max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode)
inline void max_pool2d(lowering& l, const Node* n) {
  pool_window window(l, n);
  auto dilation = pair(l, n, 4, "dilation");
  auto ceil = ceil_mode(l, n, l.boolean(n, 5, "ceil_mode"), window, dilation);
  bool dilated = dilation != std::vector<std::int64_t>{1, 1};
  if (dilated && l.opset() < 10) l.fail(n, "a dilated max-pooling needs opset 10 or later");
  auto& node = l.emit("MaxPool", n, {l.input(n->input(0))});
  if (l.opset() >= 10) graph_writer::set(node, "ceil_mode", ceil);
  if (dilated) graph_writer::set(node, "dilations", dilation);
  window.set(node);
}

// aten::avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
// divisor_override)
inline void avg_pool2d(lowering& l, const Node* n) {
  pool_window window(l, n);
  if (!l.is_none(n, 6)) l.fail(n, "divisor_override has no ONNX equivalent");
  // A partial last window is averaged differently by the two, so only an exact fit passes.
  if (ceil_mode(l, n, l.boolean(n, 4, "ceil_mode"), window, {1, 1}) != 0)
    l.fail(n, "ceil_mode with a partial last window is averaged differently by ONNX");
  auto& node = l.emit("AveragePool", n, {l.input(n->input(0))});
  graph_writer::set(node, "count_include_pad",
                    std::int64_t{l.boolean(n, 5, "count_include_pad") ? 1 : 0});
  window.set(node);
}

// aten::adaptive_avg_pool2d(input, output_size): global pooling for 1x1, otherwise an average
// pooling when the output size divides the input size (the traced input size is fixed).
inline void adaptive_avg_pool2d(lowering& l, const Node* n) {
  require_rank(l, n, n->input(0), 4, "its input");
  auto size = pair(l, n, 1, "output size");
  if (size == std::vector<std::int64_t>{1, 1}) {
    l.emit("GlobalAveragePool", n, {l.input(n->input(0))});
    return;
  }
  auto in = lowering::sizes(n->input(0));
  if (in[2] % size[0] != 0 || in[3] % size[1] != 0)
    l.fail(n, fmt::format("output size {} does not divide the input's {}x{}", size, in[2], in[3]));
  std::vector<std::int64_t> kernel{in[2] / size[0], in[3] / size[1]};
  auto& node = l.emit("AveragePool", n, {l.input(n->input(0))});
  graph_writer::set(node, "kernel_shape", kernel);
  graph_writer::set(node, "strides", kernel);
}

/// Emits a Reshape to `target`, whose first entry (the batch) ONNX copies from the input (0).
inline void reshape_keeping_batch(lowering& l, const Node* n, std::vector<std::int64_t> target) {
  target[0] = 0;
  auto shape = l.out.initializer(l.out.unique("shape"), torch::tensor(target, torch::kLong));
  l.emit("Reshape", n, {l.input(n->input(0)), shape});
}

// aten::flatten(input, start_dim, end_dim)
inline void flatten(lowering& l, const Node* n) {
  auto in = lowering::sizes(n->input(0));
  auto rank = static_cast<std::int64_t>(in.size());
  auto start = l.integer(n, 1, "start_dim"), end = l.integer(n, 2, "end_dim");
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  if (start < 1) l.fail(n, "flattening the batch dimension into others is not batch-preserving");
  if (start == 1 && end == rank - 1) {
    graph_writer::set(l.emit("Flatten", n, {l.input(n->input(0))}), "axis", std::int64_t{1});
    return;
  }
  reshape_keeping_batch(l, n, lowering::sizes(n->output()));
}

// aten::view / aten::reshape(input, shape): the traced batch size must stay in front, so the
// ONNX graph keeps the batch it is given rather than the one it was traced with.
inline void reshape(lowering& l, const Node* n) {
  auto in = lowering::sizes(n->input(0));
  auto target = l.integers(n, 1, "shape");
  if (in.empty() || target.empty() || target[0] != in[0])
    l.fail(n,
           fmt::format("reshaping {} to {} does not keep the batch dimension first", in, target));
  if (target.size() == 2) {  // [N, anything]: everything after the batch in one dimension
    graph_writer::set(l.emit("Flatten", n, {l.input(n->input(0))}), "axis", std::int64_t{1});
    return;
  }
  reshape_keeping_batch(l, n, target);
}

/// A Gemm computing a @ b (+ c), or a @ b^T with `transpose_b`. A weight b is stored as the
/// parameter is (for Linear: [out, in], so transB=1, as torch.onnx writes it).
inline void gemm(lowering& l, const Node* n, const Value* a, const Value* b, bool transpose_b,
                 const Value* c, double alpha, double beta) {
  require_rank(l, n, a, 2, "its input");
  require_rank(l, n, b, 2, "its second operand");
  const auto* w = l.weight_of(b);
  bool trans_b = transpose_b != (w && w->transposed);
  std::vector<std::string> inputs{l.input(a),
                                  w ? l.out.initializer(w->name, w->value) : l.input(b)};
  auto layer = w ? w->layer() : std::string();
  if (c) {
    inputs.push_back(l.input(c));
  } else if (l.opset() < 11) {  // C is optional from Gemm-11 on
    auto columns = lowering::sizes(n->output()).at(1);
    inputs.push_back(l.out.initializer(layer + ".zero_bias", torch::zeros({columns})));
  }
  auto& node = l.emit("Gemm", n, inputs, layer);
  graph_writer::set(node, "alpha", static_cast<float>(alpha));
  graph_writer::set(node, "beta", static_cast<float>(beta));
  if (trans_b) graph_writer::set(node, "transB", std::int64_t{1});
}

// aten::addmm(bias, input, weight.t(), beta, alpha): Linear as LibTorch 1.13 traces it.
inline void addmm(lowering& l, const Node* n) {
  gemm(l, n, n->input(1), n->input(2), false, n->input(0), l.number(n, 4, "alpha"),
       l.number(n, 3, "beta"));
}
// aten::mm(input, weight.t()) and a two-dimensional aten::matmul: a bias-free Linear.
inline void mm(lowering& l, const Node* n) {
  gemm(l, n, n->input(0), n->input(1), false, nullptr, 1.0, 1.0);
}
// aten::linear(input, weight, bias): Linear as LibTorch 2.x traces it.
inline void linear(lowering& l, const Node* n) {
  gemm(l, n, n->input(0), n->input(1), true, l.is_none(n, 2) ? nullptr : n->input(2), 1.0, 1.0);
}

// aten::t of a weight: kept as a transposed view for the Gemm that reads it.
inline void transpose(lowering& l, const Node* n) {
  const auto* w = l.weight_of(n->input(0));
  if (!w) l.fail(n, "only the transpose of a parameter (a Linear weight) is supported");
  auto t = *w;
  t.transposed = !t.transposed;
  l.define_weight(n->output(), t);
}

// aten::add / add_(self, other, alpha): tensor + tensor, or tensor + a number.
inline void add(lowering& l, const Node* n) {
  if (l.number(n, 2, "alpha") != 1.0) l.fail(n, "alpha other than 1 is not supported");
  std::string other;
  if (n->input(1)->type()->cast<c10::TensorType>()) {
    other = l.input(n->input(1));
  } else {
    auto value = static_cast<float>(l.number(n, 1, "addend"));
    other = l.out.initializer(l.out.unique("scalar"), torch::tensor(value));
  }
  l.emit("Add", n, {l.input(n->input(0)), other});
}

// aten::mean(input, dims, keepdim, dtype) over axes other than the batch.
inline void mean(lowering& l, const Node* n) {
  auto axes = l.integers(n, 1, "dims");
  auto rank = static_cast<std::int64_t>(lowering::sizes(n->input(0)).size());
  for (auto& axis : axes) {
    if (axis < 0) axis += rank;
    if (axis == 0) l.fail(n, "a mean over the batch dimension is not batch-preserving");
  }
  if (!l.is_none(n, 3)) l.fail(n, "a mean with a dtype is not supported");
  auto& node = l.emit("ReduceMean", n, {l.input(n->input(0))});
  graph_writer::set(node, "axes", axes);
  graph_writer::set(node, "keepdims", std::int64_t{l.boolean(n, 2, "keepdim") ? 1 : 0});
}

// aten::dropout / feature_dropout / alpha_dropout / feature_alpha_dropout(input, p, train):
// the identity in eval mode, so no node.
inline void dropout(lowering& l, const Node* n) {
  if (l.boolean(n, 2, "train flag")) l.fail(n, "dropout runs in training mode");
  l.alias(n->output(), n->input(0));
}
// aten::contiguous / clone / detach: the same values.
inline void identity(lowering& l, const Node* n) { l.alias(n->output(), n->input(0)); }

/// Marks each eval-mode BatchNorm whose input is a convolution used by nothing else, and whose
/// statistics and affine parameters are known tensors, to be folded into that convolution.
inline void plan_batch_norm_folds(lowering& l, const torch::jit::Graph& graph) {
  for (const auto* bn : graph.nodes()) {
    if (bn->kind() != c10::aten::batch_norm) continue;
    const auto* conv = bn->input(0)->node();
    const auto* training = l.constant_of(bn->input(5));
    auto known = [&](std::size_t i) { return l.weight_of(bn->input(i)) != nullptr; };
    if (is_convolution(conv) && conv->output()->uses().size() == 1 && l.weight_of(conv->input(1)) &&
        (l.is_none(conv, 2) || l.weight_of(conv->input(2))) && training && training->isBool() &&
        !training->toBool() && known(3) && known(4) && (l.is_none(bn, 1) || known(1)) &&
        (l.is_none(bn, 2) || known(2)))
      l.fold(conv, bn);
  }
}

}  // namespace aten_ops

/// Converters by aten op name.
inline const std::map<std::string_view, converter>& aten_converters() {
  using namespace aten_ops;
  static const std::map<std::string_view, converter> table{
      {"aten::_convolution", convolution},
      {"aten::convolution", convolution},
      {"aten::conv2d", convolution},
      {"aten::batch_norm", batch_norm},
      {"aten::relu", relu},
      {"aten::relu_", relu},
      {"aten::max_pool2d", max_pool2d},
      {"aten::avg_pool2d", avg_pool2d},
      {"aten::adaptive_avg_pool2d", adaptive_avg_pool2d},
      {"aten::flatten", flatten},
      {"aten::view", reshape},
      {"aten::reshape", reshape},
      {"aten::addmm", addmm},
      {"aten::mm", mm},
      {"aten::matmul", mm},
      {"aten::linear", linear},
      {"aten::t", transpose},
      {"aten::add", add},
      {"aten::add_", add},
      {"aten::mean", mean},
      {"aten::dropout", dropout},
      {"aten::feature_dropout", dropout},
      {"aten::alpha_dropout", dropout},
      {"aten::feature_alpha_dropout", dropout},
      {"aten::contiguous", identity},
      {"aten::clone", identity},
      {"aten::detach", identity},
  };
  return table;
}

}  // namespace trellis::core::onnx_export
