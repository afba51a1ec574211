// ONNX model files: writing one, reading one back with errors that name the file, and counting
// a graph's nodes by op type (what export reports and tests compare).
#pragma once
#include <fmt/format.h>
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "trellis/core/onnx/error.hpp"

namespace trellis::core::onnx_export {

inline void write_model(const ::onnx::ModelProto& model, const std::filesystem::path& file) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  if (!out) throw error(fmt::format("cannot open '{}' for writing", file.string()));
  if (!model.SerializeToOstream(&out))
    throw error(fmt::format("serialising the model to '{}' failed", file.string()));
  out.close();
  if (!out) throw error(fmt::format("writing '{}' failed", file.string()));
}

inline ::onnx::ModelProto read_model(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw error(fmt::format("cannot open '{}'", file.string()));
  ::onnx::ModelProto model;
  if (!model.ParseFromIstream(&in))
    throw error(fmt::format("'{}' is not an ONNX model (protobuf parsing failed)", file.string()));
  return model;
}

/// Nodes by op type ("Conv" -> 20).
inline std::map<std::string, int> count_nodes(const ::onnx::ModelProto& model) {
  std::map<std::string, int> counts;
  for (const auto& node : model.graph().node()) ++counts[node.op_type()];
  return counts;
}

}  // namespace trellis::core::onnx_export
