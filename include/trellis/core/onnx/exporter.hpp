// to_model: a classifier as an ONNX model (IR 8, opset 7..17): its eval-mode forward traced,
// each aten op lowered to ONNX nodes, weights as initializers, input "input" [batch, C, H, W]
// and output "output" [batch, classes]. check_exportable runs the same without a file, so a
// backend can reject an unexportable model before training it.
#pragma once
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <onnx/onnx_pb.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "trellis/core/models/classifier.hpp"
#include "trellis/core/onnx/aten_ops.hpp"
#include "trellis/core/onnx/error.hpp"
#include "trellis/core/onnx/graph_writer.hpp"
#include "trellis/core/onnx/lowering.hpp"
#include "trellis/core/onnx/model_file.hpp"
#include "trellis/core/onnx/options.hpp"
#include "trellis/core/onnx/trace.hpp"

namespace trellis::core::onnx_export {

namespace exporter_detail {

inline void validate(const options& opts, c10::IntArrayRef image_shape) {
  if (opts.opset < min_opset || opts.opset > max_opset)
    throw error(fmt::format("opset {} is outside {}..{}, the opsets ONNX 1.12 checks with IR {}",
                            opts.opset, min_opset, max_opset, ir_version));
  if (!opts.dynamic_batch && opts.batch_size < 1)
    throw error(
        fmt::format("a static batch needs a batch size of at least 1, not {}", opts.batch_size));
  if (image_shape.size() != 3 ||
      std::any_of(image_shape.begin(), image_shape.end(), [](auto s) { return s < 1; }))
    throw error(fmt::format("the image shape must be [C, H, W], not {}", image_shape.vec()));
}

inline void set_value_info(::onnx::ValueInfoProto& info, std::string_view name, const options& opts,
                           const std::vector<std::int64_t>& sizes) {
  info.set_name(std::string(name));
  auto& tensor = *info.mutable_type()->mutable_tensor_type();
  tensor.set_elem_type(::onnx::TensorProto::FLOAT);
  auto& shape = *tensor.mutable_shape();
  for (std::size_t d = 0; d < sizes.size(); ++d) {
    auto& dim = *shape.add_dim();
    if (d == 0 && opts.dynamic_batch)
      dim.set_dim_param(std::string(batch_dim_name));
    else
      dim.set_dim_value(d == 0 ? opts.batch_size : sizes[d]);
  }
}

inline void rename_value(::onnx::GraphProto& graph, const std::string& from,
                         const std::string& to) {
  for (auto& node : *graph.mutable_node()) {
    for (auto& input : *node.mutable_input())
      if (input == from) input = to;
    for (auto& output : *node.mutable_output())
      if (output == from) output = to;
  }
}

inline void add_metadata(::onnx::ModelProto& model, const std::string& key,
                         const std::string& value) {
  for (const auto& entry : model.metadata_props())
    if (entry.key() == key) throw error(fmt::format("metadata key '{}' is given twice", key));
  auto& entry = *model.add_metadata_props();
  entry.set_key(key);
  entry.set_value(value);
}

}  // namespace exporter_detail

/// The ONNX model of `model` (set to eval mode while traced, then back) for images of
/// `image_shape` [C, H, W]. An op or layer without an ONNX export is an error naming it.
inline ::onnx::ModelProto to_model(classifier& model, const options& opts,
                                   c10::IntArrayRef image_shape) {
  using namespace exporter_detail;
  validate(opts, image_shape);
  // Zeros, not random images: tracing must not draw from the caller's random generator.
  auto traced = trace_forward(model, torch::zeros({opts.dynamic_batch ? 2 : opts.batch_size,
                                                   image_shape[0], image_shape[1], image_shape[2]},
                                                  torch::TensorOptions().device(device_of(model))));
  torch::jit::EliminateDeadCode(traced.graph);

  ::onnx::ModelProto proto;
  proto.set_ir_version(ir_version);
  proto.set_producer_name(std::string(producer_name));
  proto.set_producer_version(std::string(producer_version));
  auto& opset = *proto.add_opset_import();
  opset.set_domain("");
  opset.set_version(opts.opset);
  auto& graph = *proto.mutable_graph();
  graph.set_name(opts.model_type.empty() ? std::string(producer_name) : opts.model_type);

  graph_writer out{graph};
  out.unique(std::string(input_name));  // reserved
  out.unique(std::string(output_name));
  lowering l{traced, opts, out};
  const auto& converters = aten_converters();
  auto is_constant = [](const Node* n) {
    return n->kind() == c10::prim::Constant || n->kind() == c10::prim::ListConstruct;
  };
  for (const auto* n : traced.graph->nodes())
    if (is_constant(n)) l.record_constant(n);
  if (opts.fold_batch_norm) aten_ops::plan_batch_norm_folds(l, *traced.graph);
  // Every op without a converter at once: the first one is not always the telling one (an
  // LSTM's forward creates its zero state before the aten::lstm that names the layer).
  std::vector<std::string> unsupported;
  for (const auto* n : traced.graph->nodes())
    if (!is_constant(n) && !converters.contains(n->kind().toQualString()))
      unsupported.push_back(l.describe(n));
  if (!unsupported.empty())
    throw error(fmt::format(
        "cannot export {}: no ONNX export in trellis (it exports Conv2d, BatchNorm2d, ReLU, "
        "MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Flatten and batch-keeping view/reshape, Linear, "
        "Dropout, tensor addition and means over spatial axes)",
        fmt::join(unsupported, "; ")));
  for (const auto* n : traced.graph->nodes())
    if (!is_constant(n)) converters.at(n->kind().toQualString())(l, n);

  const auto& outputs = traced.graph->outputs();
  auto logits = outputs.size() == 1 ? lowering::sizes(outputs[0]) : std::vector<std::int64_t>{};
  if (logits.size() != 2 || logits[0] != traced.image_sizes[0])
    throw error(
        fmt::format("the forward must return logits [N, classes] for images [N, C, H, W]; "
                    "for images {} it returned {}",
                    traced.image_sizes, logits));
  if (l.weight_of(outputs[0]) || l.input(outputs[0]) == input_name)
    throw error("the forward returns its input or a parameter, not a computed tensor");
  rename_value(graph, l.input(outputs[0]), std::string(output_name));

  set_value_info(*graph.add_input(), input_name, opts, traced.image_sizes);
  set_value_info(*graph.add_output(), output_name, opts, logits);

  add_metadata(proto, "run_id", opts.run_id);
  add_metadata(proto, "model_type", opts.model_type);
  add_metadata(proto, "classes", std::to_string(logits[1]));
  add_metadata(proto, "input_shape", fmt::format("{}", image_shape.vec()));
  add_metadata(proto, "batch",
               opts.dynamic_batch ? std::string(batch_dim_name) : std::to_string(opts.batch_size));
  add_metadata(proto, "batch_norm", opts.fold_batch_norm ? "folded" : "kept");
  for (const auto& [key, value] : opts.metadata) add_metadata(proto, key, value);
  return proto;
}

/// Whether `model` exports, found by tracing it on zero images of `image_shape` [C, H, W] and
/// lowering the trace (no file written): throws the error export would; otherwise returns the
/// nodes by op type. Cheap enough (well under a second for ResNet-50) to call before training.
inline std::map<std::string, int> check_exportable(classifier& model, c10::IntArrayRef image_shape,
                                                   const options& opts = {}) {
  return count_nodes(to_model(model, opts, image_shape));
}

}  // namespace trellis::core::onnx_export
