// check_model_file: reads an ONNX file and runs ONNX's own checks on it, as Python's
// onnx.checker.check_model(full_check=True) does (the checker, then strict shape inference with
// type checks; C++'s check_model has no full_check flag), plus the form trellis's exports have:
// IR 8, an opset in 7..17, one float input "input" [N, C, H, W] and one output "output" [N, K].
#pragma once
#include <fmt/format.h>
#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <exception>
#include <filesystem>
#include <string>

#include "trellis/core/onnx/error.hpp"
#include "trellis/core/onnx/model_file.hpp"
#include "trellis/core/onnx/options.hpp"

namespace trellis::core::onnx_export {

namespace model_check_detail {

inline int rank_of(const ::onnx::ValueInfoProto& info) {
  if (!info.type().has_tensor_type() || !info.type().tensor_type().has_shape()) return -1;
  return info.type().tensor_type().shape().dim_size();
}

inline void check_form(const ::onnx::ModelProto& model, const std::string& file) {
  auto fail = [&](const std::string& why) { throw error(fmt::format("'{}': {}", file, why)); };
  if (model.ir_version() != ir_version)
    fail(fmt::format("IR version {}, expected {}", model.ir_version(), ir_version));
  bool default_domain = false;
  for (const auto& opset : model.opset_import()) {
    if (!opset.domain().empty() && opset.domain() != "ai.onnx")
      fail(fmt::format("imports operator set domain '{}'; only the default one is expected",
                       opset.domain()));
    default_domain = true;
    if (opset.version() < min_opset || opset.version() > max_opset)
      fail(fmt::format("opset {} is outside {}..{}", opset.version(), min_opset, max_opset));
  }
  if (!default_domain) fail("imports no operator set");
  const auto& graph = model.graph();
  // Weights are initializers only, so the one graph input is the images.
  if (graph.input_size() != 1 || graph.input(0).name() != input_name)
    fail(
        fmt::format("the graph has {} inputs; expected exactly one, '{}' (weights belong in "
                    "initializers only)",
                    graph.input_size(), input_name));
  if (graph.output_size() != 1 || graph.output(0).name() != output_name)
    fail(fmt::format("the graph has {} outputs; expected exactly one, '{}'", graph.output_size(),
                     output_name));
  const auto& input = graph.input(0);
  if (input.type().tensor_type().elem_type() != ::onnx::TensorProto::FLOAT || rank_of(input) != 4)
    fail(fmt::format("input '{}' is not a float tensor [N, C, H, W]", input_name));
  if (rank_of(graph.output(0)) != 2)
    fail(fmt::format("output '{}' is not a tensor [N, classes]", output_name));
}

}  // namespace model_check_detail

/// The model in `file`, after it passed every check; otherwise an error naming the file and
/// the check that failed.
inline ::onnx::ModelProto check_model_file(const std::filesystem::path& file) {
  auto model = read_model(file);
  auto name = file.string();
  try {
    ::onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    throw error(fmt::format("'{}' fails the ONNX checker: {}", name, e.what()));
  }
  try {
    auto inferred = model;  // inference adds value_info; the file's model stays as written
    ::onnx::shape_inference::InferShapes(
        inferred, ::onnx::OpSchemaRegistry::Instance(),
        ::onnx::ShapeInferenceOptions{/*check_type=*/true, /*strict_mode=*/1});
  } catch (const std::exception& e) {
    throw error(fmt::format("'{}' fails strict ONNX shape inference: {}", name, e.what()));
  }
  model_check_detail::check_form(model, name);
  return model;
}

}  // namespace trellis::core::onnx_export
