// reference_evaluator: runs an ONNX graph's nodes, as the file has them, with ATen ops, following
// the ONNX operator spec (attribute defaults included) for the ops trellis writes, plus Identity
// (torch.onnx writes it). It reads only the ModelProto, so it checks the exporter independently
// where ONNX Runtime is not available (a C++ program at run time).
#pragma once
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <onnx/onnx_pb.h>
#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "trellis/core/onnx/error.hpp"
#include "trellis/core/onnx/options.hpp"
#include "trellis/core/onnx/tensor_proto.hpp"

namespace trellis::core::onnx_export {

namespace evaluator_detail {

/// A node's attributes: each op names those it reads; any other one is an error (the evaluator
/// would otherwise ignore semantics it does not implement).
class attributes {
 public:
  attributes(const ::onnx::NodeProto& node, std::initializer_list<std::string_view> known,
             const std::function<void(const std::string&)>& fail) {
    for (const auto& a : node.attribute()) {
      bool listed = false;
      for (auto k : known) listed = listed || a.name() == k;
      if (!listed) fail(fmt::format("attribute '{}' is not supported", a.name()));
      by_name_[a.name()] = &a;
    }
  }
  [[nodiscard]] std::int64_t integer(const std::string& name, std::int64_t fallback) const {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? fallback : it->second->i();
  }
  [[nodiscard]] float number(const std::string& name, float fallback) const {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? fallback : it->second->f();
  }
  [[nodiscard]] std::vector<std::int64_t> integers(const std::string& name,
                                                   std::vector<std::int64_t> fallback) const {
    auto it = by_name_.find(name);
    if (it == by_name_.end()) return fallback;
    return {it->second->ints().begin(), it->second->ints().end()};
  }
  [[nodiscard]] std::string text(const std::string& name, std::string fallback) const {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? fallback : it->second->s();
  }
  [[nodiscard]] bool has(const std::string& name) const { return by_name_.contains(name); }

 private:
  std::map<std::string, const ::onnx::AttributeProto*> by_name_;
};

}  // namespace evaluator_detail

class reference_evaluator {
 public:
  /// `source` names the model in errors (its file).
  explicit reference_evaluator(const ::onnx::ModelProto& model, std::string source = "the model")
      : source_{std::move(source)}, graph_{model.graph()} {
    for (const auto& opset : model.opset_import())
      if (opset.domain().empty() || opset.domain() == "ai.onnx") opset_ = opset.version();
    if (opset_ < min_opset || opset_ > max_opset)
      throw error(fmt::format("{}: the reference evaluator reads opsets {}..{}, not {}", source_,
                              min_opset, max_opset, opset_));
    for (const auto& init : graph_.initializer())
      initializers_[init.name()] =
          from_tensor_proto(init, fmt::format("{}: initializer '{}'", source_, init.name()));
    graph_.clear_initializer();  // held as tensors now
  }

  /// The graph's output for `images` fed to its one input; the input's fixed dimensions must
  /// match, as a runtime requires.
  [[nodiscard]] torch::Tensor run(const torch::Tensor& images) const {
    check_input(images);
    torch::NoGradGuard no_grad;
    std::unordered_map<std::string, torch::Tensor> values;
    values[graph_.input(0).name()] = images.to(torch::kFloat).contiguous();
    for (const auto& node : graph_.node()) {
      auto fail = [&](const std::string& why) {
        throw error(
            fmt::format("{}: node '{}' ({}): {}", source_, node.name(), node.op_type(), why));
      };
      std::vector<torch::Tensor> in;
      for (const auto& name : node.input()) {
        if (name.empty()) {
          in.emplace_back();  // an omitted optional input
          continue;
        }
        auto it = values.find(name);
        if (it != values.end()) {
          in.push_back(it->second);
        } else if (auto init = initializers_.find(name); init != initializers_.end()) {
          in.push_back(init->second);
        } else {
          fail(
              fmt::format("reads '{}', which neither an initializer nor an earlier node defines "
                          "(nodes must be in topological order)",
                          name));
        }
      }
      if (node.output_size() != 1) fail("only nodes with one output are supported");
      torch::Tensor result;
      try {
        result = evaluate(node, in, fail);
      } catch (const c10::Error& e) {
        fail(e.what_without_backtrace());
      }
      values[node.output(0)] = result;
    }
    auto it = values.find(graph_.output(0).name());
    if (it == values.end())
      throw error(
          fmt::format("{}: no node computes the output '{}'", source_, graph_.output(0).name()));
    return it->second;
  }

 private:
  using fail_fn = std::function<void(const std::string&)>;

  void check_input(const torch::Tensor& images) const {
    if (graph_.input_size() != 1)
      throw error(
          fmt::format("{}: the graph has {} inputs, not one", source_, graph_.input_size()));
    const auto& shape = graph_.input(0).type().tensor_type().shape();
    bool fits = shape.dim_size() == images.dim();
    for (int d = 0; fits && d < shape.dim_size(); ++d)
      fits = !shape.dim(d).has_dim_value() || shape.dim(d).dim_value() == images.size(d);
    if (!fits) {
      std::vector<std::string> declared;
      for (const auto& dim : shape.dim())
        declared.push_back(dim.has_dim_value() ? std::to_string(dim.dim_value()) : dim.dim_param());
      throw error(fmt::format("{}: input '{}' is declared [{}]; images {} do not fit", source_,
                              graph_.input(0).name(), fmt::join(declared, ", "),
                              images.sizes().vec()));
    }
  }

  /// Symmetric [begin..., end...] pads as one per spatial axis; asymmetric ones are an error.
  static std::vector<std::int64_t> symmetric(const std::vector<std::int64_t>& pads,
                                             std::size_t axes, const fail_fn& fail) {
    if (pads.empty()) return std::vector<std::int64_t>(axes, 0);
    if (pads.size() != 2 * axes)
      fail(fmt::format("pads {} do not have 2 x {} entries", pads, axes));
    for (std::size_t i = 0; i < axes; ++i)
      if (pads[i] != pads[i + axes])
        fail(fmt::format("asymmetric pads {} are not supported", pads));
    return {pads.begin(), pads.begin() + static_cast<std::ptrdiff_t>(axes)};
  }
  static void no_auto_pad(const evaluator_detail::attributes& a, const fail_fn& fail) {
    if (a.text("auto_pad", "NOTSET") != "NOTSET")
      fail("auto_pad other than NOTSET is not supported");
  }
  static void require(const std::vector<torch::Tensor>& in, std::size_t least, std::size_t most,
                      const fail_fn& fail) {
    if (in.size() < least || in.size() > most || !in[0].defined())
      fail(fmt::format("has {} inputs, expected {}..{}", in.size(), least, most));
  }
  static void require_rank4(const torch::Tensor& x, const fail_fn& fail) {
    if (x.dim() != 4) fail(fmt::format("input {} is not [N, C, H, W]", x.sizes().vec()));
  }
  /// The output size ONNX's pooling formula gives along each spatial axis.
  static void check_pool_size(const torch::Tensor& out, const torch::Tensor& x,
                              const std::vector<std::int64_t>& kernel,
                              const std::vector<std::int64_t>& stride,
                              const std::vector<std::int64_t>& pad,
                              const std::vector<std::int64_t>& dilation, bool ceil,
                              const fail_fn& fail) {
    for (std::size_t d = 0; d < 2; ++d) {
      auto span =
          x.size(static_cast<std::int64_t>(d) + 2) + 2 * pad[d] - dilation[d] * (kernel[d] - 1) - 1;
      auto expected = (ceil ? (span + stride[d] - 1) / stride[d] : span / stride[d]) + 1;
      if (out.size(static_cast<std::int64_t>(d) + 2) != expected)
        fail(
            "ATen's pooling size differs from ONNX's here (ceil_mode with a window in the "
            "padding)");
    }
  }

  torch::Tensor evaluate(const ::onnx::NodeProto& node, const std::vector<torch::Tensor>& in,
                         const fail_fn& fail) const {
    using evaluator_detail::attributes;
    const auto& op = node.op_type();
    if (!node.domain().empty() && node.domain() != "ai.onnx")
      fail(fmt::format("domain '{}' is not supported", node.domain()));
    if (op == "Conv") {
      attributes a(node, {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"},
                   fail);
      require(in, 2, 3, fail);
      require_rank4(in[0], fail);
      no_auto_pad(a, fail);
      const auto& w = in[1];
      if (w.dim() != 4) fail("only 2-d convolutions are supported");
      auto kernel = a.integers("kernel_shape", {w.size(2), w.size(3)});
      if (kernel != std::vector<std::int64_t>{w.size(2), w.size(3)})
        fail(fmt::format("kernel_shape {} differs from the weight's {}", kernel, w.sizes().vec()));
      auto b = in.size() > 2 ? in[2] : torch::Tensor();
      return torch::conv2d(in[0], w, b, a.integers("strides", {1, 1}),
                           symmetric(a.integers("pads", {}), 2, fail),
                           a.integers("dilations", {1, 1}), a.integer("group", 1));
    }
    if (op == "BatchNormalization") {
      attributes a(node, {"epsilon", "momentum", "spatial", "training_mode"}, fail);
      require(in, 5, 5, fail);
      if (a.integer("spatial", 1) != 1) fail("spatial=0 is not supported");
      if (a.integer("training_mode", 0) != 0) fail("training_mode is not supported");
      std::vector<std::int64_t> per_channel(static_cast<std::size_t>(in[0].dim()), 1);
      per_channel[1] = -1;
      auto c = [&](std::size_t i) { return in[i].reshape(per_channel); };
      return (in[0] - c(3)) / torch::sqrt(c(4) + a.number("epsilon", 1e-5F)) * c(1) + c(2);
    }
    if (op == "Relu") {
      attributes a(node, {}, fail);
      require(in, 1, 1, fail);
      return torch::clamp_min(in[0], 0);
    }
    if (op == "MaxPool") {
      attributes a(node,
                   {"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order",
                    "strides"},
                   fail);
      require(in, 1, 1, fail);
      require_rank4(in[0], fail);
      no_auto_pad(a, fail);
      if (a.integer("storage_order", 0) != 0) fail("storage_order 1 is not supported");
      auto kernel = a.integers("kernel_shape", {});
      if (kernel.size() != 2) fail("kernel_shape must have two entries");
      auto stride = a.integers("strides", {1, 1});
      auto pad = symmetric(a.integers("pads", {}), 2, fail);
      auto dilation = a.integers("dilations", {1, 1});
      bool ceil = a.integer("ceil_mode", 0) != 0;
      auto out = torch::max_pool2d(in[0], kernel, stride, pad, dilation, ceil);
      check_pool_size(out, in[0], kernel, stride, pad, dilation, ceil, fail);
      return out;
    }
    if (op == "AveragePool") {
      attributes a(
          node, {"auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides"},
          fail);
      require(in, 1, 1, fail);
      require_rank4(in[0], fail);
      no_auto_pad(a, fail);
      auto kernel = a.integers("kernel_shape", {});
      if (kernel.size() != 2) fail("kernel_shape must have two entries");
      if (a.integer("ceil_mode", 0) != 0) fail("ceil_mode 1 is not supported");
      auto stride = a.integers("strides", {1, 1});
      auto pad = symmetric(a.integers("pads", {}), 2, fail);
      auto out = torch::avg_pool2d(in[0], kernel, stride, pad, false,
                                   a.integer("count_include_pad", 0) != 0);
      check_pool_size(out, in[0], kernel, stride, pad, {1, 1}, false, fail);
      return out;
    }
    if (op == "GlobalAveragePool") {
      attributes a(node, {}, fail);
      require(in, 1, 1, fail);
      if (in[0].dim() < 3) fail("input has no spatial axes");
      std::vector<std::int64_t> spatial;
      for (std::int64_t d = 2; d < in[0].dim(); ++d) spatial.push_back(d);
      return in[0].mean(spatial, /*keepdim=*/true);
    }
    if (op == "Flatten") {
      attributes a(node, {"axis"}, fail);
      require(in, 1, 1, fail);
      auto axis = a.integer("axis", 1);
      if (axis < 0) axis += in[0].dim();
      if (axis < 0 || axis > in[0].dim()) fail(fmt::format("axis {} is out of range", axis));
      std::int64_t outer = 1;
      for (std::int64_t d = 0; d < axis; ++d) outer *= in[0].size(d);
      return in[0].reshape({outer, outer == 0 ? 0 : in[0].numel() / outer});
    }
    if (op == "Gemm") {
      attributes a(node, {"alpha", "beta", "transA", "transB"}, fail);
      require(in, 2, 3, fail);
      auto A = a.integer("transA", 0) != 0 ? in[0].t() : in[0];
      auto B = a.integer("transB", 0) != 0 ? in[1].t() : in[1];
      if (A.dim() != 2 || B.dim() != 2 || A.size(1) != B.size(0))
        fail(fmt::format("operands {} and {} do not multiply", A.sizes().vec(), B.sizes().vec()));
      auto y = a.number("alpha", 1.0F) * torch::mm(A, B);
      if (in.size() > 2 && in[2].defined()) y = y + a.number("beta", 1.0F) * in[2];
      return y;
    }
    if (op == "Add") {
      attributes a(node, {}, fail);
      require(in, 2, 2, fail);
      return in[0] + in[1];
    }
    if (op == "Reshape") {
      attributes a(node, {"allowzero"}, fail);
      require(in, 2, 2, fail);
      if (in[1].scalar_type() != torch::kLong || in[1].dim() != 1) fail("shape is not int64 [k]");
      bool allow_zero = a.integer("allowzero", 0) != 0;
      std::vector<std::int64_t> shape(in[1].data_ptr<std::int64_t>(),
                                      in[1].data_ptr<std::int64_t>() + in[1].numel());
      for (std::size_t d = 0; d < shape.size(); ++d)
        if (shape[d] == 0 && !allow_zero) {
          if (static_cast<std::int64_t>(d) >= in[0].dim()) fail("0 copies a missing dimension");
          shape[d] = in[0].size(static_cast<std::int64_t>(d));
        }
      return in[0].reshape(shape);
    }
    if (op == "ReduceMean") {
      attributes a(node, {"axes", "keepdims"}, fail);
      require(in, 1, 1, fail);
      auto axes = a.integers("axes", {});
      if (axes.empty())
        for (std::int64_t d = 0; d < in[0].dim(); ++d) axes.push_back(d);
      return in[0].mean(axes, a.integer("keepdims", 1) != 0);
    }
    if (op == "Identity") {
      attributes a(node, {}, fail);
      require(in, 1, 1, fail);
      return in[0];
    }
    fail("the reference evaluator does not implement this op");
    return {};
  }

  std::string source_;
  ::onnx::GraphProto graph_;
  std::int64_t opset_ = 0;
  std::unordered_map<std::string, torch::Tensor> initializers_;
};

}  // namespace trellis::core::onnx_export
