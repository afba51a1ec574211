// graph_writer: appends nodes, initializers and attributes to an ONNX GraphProto, giving every
// node and value a unique name and every initializer exactly one entry.
#pragma once
#include <onnx/onnx_pb.h>
#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "trellis/core/onnx/tensor_proto.hpp"

namespace trellis::core::onnx_export {

class graph_writer {
 public:
  explicit graph_writer(::onnx::GraphProto& graph) : graph_{graph} {}

  /// `base`, or `base` with a number appended when a node or value already has that name.
  std::string unique(const std::string& base) {
    auto name = base;
    for (int n = 1; taken_.contains(name); ++n) name = base + "_" + std::to_string(n);
    taken_.insert(name);
    return name;
  }

  /// Adds the initializer the first time `name` is asked for; returns its name in the graph.
  const std::string& initializer(const std::string& name, const torch::Tensor& value) {
    if (auto it = initializers_.find(name); it != initializers_.end()) return it->second;
    auto unique_name = unique(name);  // a node output may already carry it
    *graph_.add_initializer() = to_tensor_proto(unique_name, value);
    return initializers_.emplace(name, unique_name).first->second;
  }

  ::onnx::NodeProto& node(std::string_view op_type, const std::string& name,
                          const std::vector<std::string>& inputs,
                          const std::vector<std::string>& outputs) {
    auto& node = *graph_.add_node();
    node.set_op_type(std::string(op_type));
    node.set_name(name);
    for (const auto& i : inputs) node.add_input(i);
    for (const auto& o : outputs) node.add_output(o);
    return node;
  }

  static void set(::onnx::NodeProto& node, const std::string& name, std::int64_t value) {
    auto& a = *node.add_attribute();
    a.set_name(name);
    a.set_type(::onnx::AttributeProto::INT);
    a.set_i(value);
  }
  static void set(::onnx::NodeProto& node, const std::string& name, float value) {
    auto& a = *node.add_attribute();
    a.set_name(name);
    a.set_type(::onnx::AttributeProto::FLOAT);
    a.set_f(value);
  }
  static void set(::onnx::NodeProto& node, const std::string& name,
                  const std::vector<std::int64_t>& values) {
    auto& a = *node.add_attribute();
    a.set_name(name);
    a.set_type(::onnx::AttributeProto::INTS);
    for (auto v : values) a.add_ints(v);
  }

  [[nodiscard]] ::onnx::GraphProto& graph() { return graph_; }

 private:
  ::onnx::GraphProto& graph_;
  std::set<std::string> taken_;
  std::map<std::string, std::string> initializers_;  // asked-for name -> name in the graph
};

}  // namespace trellis::core::onnx_export
