// lowering: the state of translating one traced forward into ONNX nodes: which traced values
// are constants, which are weights (parameters, buffers, tensor constants) and which ONNX value
// names the others have; plus the reading of op arguments and errors that name the op and layer.
// The op converters (aten_ops.hpp) use it; the exporter (exporter.hpp) drives it.
#pragma once
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "trellis/core/onnx/error.hpp"
#include "trellis/core/onnx/graph_writer.hpp"
#include "trellis/core/onnx/options.hpp"
#include "trellis/core/onnx/trace.hpp"

namespace trellis::core::onnx_export {

using torch::jit::Node;
using torch::jit::Value;

/// A tensor whose value the export knows: a parameter or buffer (named as in the state dict), a
/// tensor constant of the forward, or the transpose of one (aten::t of a Linear weight).
struct weight {
  std::string name;
  torch::Tensor value;
  bool transposed = false;
  bool constant = false;  ///< made in forward, not one of the model's parameters or buffers
  /// The layer it belongs to: its name without the last part ("layer1.0.conv1.weight" ->
  /// "layer1.0.conv1").
  [[nodiscard]] std::string layer() const {
    auto dot = name.rfind('.');
    return dot == std::string::npos ? name : name.substr(0, dot);
  }
};

class lowering {
 public:
  lowering(const traced_forward& traced, const options& opts, graph_writer& out)
      : opts{opts}, out{out} {
    const auto& inputs = traced.graph->inputs();
    names_[inputs[0]] = std::string(input_name);
    for (std::size_t i = 1; i < inputs.size(); ++i)
      weights_[inputs[i]] = weight{traced.names[i - 1], traced.tensors[i - 1]};
  }

  const options& opts;
  graph_writer& out;

  // --- what a traced value is ---------------------------------------------------------------

  [[nodiscard]] const weight* weight_of(const Value* v) const {
    auto it = weights_.find(v);
    return it == weights_.end() ? nullptr : &it->second;
  }
  /// The constant a value is, or nullptr.
  [[nodiscard]] const c10::IValue* constant_of(const Value* v) const {
    auto it = constants_.find(v);
    return it == constants_.end() ? nullptr : &it->second;
  }
  [[nodiscard]] bool is_none(const Node* n, std::size_t i) const {
    auto it = constants_.find(n->input(i));
    return it != constants_.end() && it->second.isNone();
  }
  [[nodiscard]] std::int64_t integer(const Node* n, std::size_t i, std::string_view what) const {
    const auto& c = constant(n, i, what);
    if (!c.isInt()) fail(n, fmt::format("its {} is not an integer constant", what));
    return c.toInt();
  }
  [[nodiscard]] double number(const Node* n, std::size_t i, std::string_view what) const {
    const auto& c = constant(n, i, what);
    if (!c.isDouble() && !c.isInt()) fail(n, fmt::format("its {} is not a number", what));
    return c.isDouble() ? c.toDouble() : static_cast<double>(c.toInt());
  }
  [[nodiscard]] bool boolean(const Node* n, std::size_t i, std::string_view what) const {
    const auto& c = constant(n, i, what);
    if (!c.isBool()) fail(n, fmt::format("its {} is not a boolean constant", what));
    return c.toBool();
  }
  [[nodiscard]] std::vector<std::int64_t> integers(const Node* n, std::size_t i,
                                                   std::string_view what) const {
    const auto& c = constant(n, i, what);
    if (c.isInt()) return {c.toInt()};
    if (!c.isIntList()) fail(n, fmt::format("its {} is not a list of integer constants", what));
    return c.toIntVector();
  }
  /// A traced tensor's sizes (the traced images' batch size included); {} when unknown.
  [[nodiscard]] static std::vector<std::int64_t> sizes(const Value* v) {
    auto type = v->type()->cast<c10::TensorType>();
    if (!type) return {};
    auto concrete = type->sizes().concrete_sizes();
    return concrete ? *concrete : std::vector<std::int64_t>{};
  }
  [[nodiscard]] std::int64_t opset() const { return opts.opset; }

  // --- recording ----------------------------------------------------------------------------

  /// prim::Constant and prim::ListConstruct of constants; other lists stay unknown.
  void record_constant(const Node* n) {
    if (n->kind() == c10::prim::Constant) {
      auto value = torch::jit::toIValue(n->output());
      if (!value) fail(n, "a constant of a type the export does not read");
      if (value->isTensor())
        weights_[n->output()] = weight{"constant_" + std::to_string(constant_tensors_++),
                                       value->toTensor(), false, true};
      else
        constants_[n->output()] = std::move(*value);
      return;
    }
    std::vector<std::int64_t> ints;
    for (const auto* input : n->inputs()) {
      auto it = constants_.find(input);
      if (it == constants_.end() || !it->second.isInt()) return;
      ints.push_back(it->second.toInt());
    }
    constants_[n->output()] = c10::IValue(ints);
  }
  void define_weight(const Value* v, weight w) { weights_[v] = std::move(w); }
  /// `v` is `source` (an op that is the identity in eval mode).
  void alias(const Value* v, const Value* source) {
    if (const auto* w = weight_of(source))
      weights_[v] = *w;
    else
      names_[v] = input(source);
  }

  /// The ONNX name of a tensor value, adding a weight's initializer the first time it is used.
  std::string input(const Value* v) {
    if (const auto* w = weight_of(v))
      return w->transposed ? out.initializer(w->name + ".T", w->value.t().contiguous())
                           : out.initializer(w->name, w->value);
    auto it = names_.find(v);
    if (it == names_.end())
      throw error(fmt::format("the traced value %{} has no ONNX name (produced by {})",
                              v->debugName(), v->node()->kind().toQualString()));
    return it->second;
  }

  /// Adds an ONNX node computing traced node `n`'s first output; it is named after the layer
  /// whose weights it uses, or after its op type.
  ::onnx::NodeProto& emit(std::string_view op_type, const Node* n,
                          const std::vector<std::string>& inputs, const std::string& layer = "") {
    auto name = out.unique(layer.empty() ? std::string(op_type) : layer);
    names_[n->output()] = name;
    return out.node(op_type, name, inputs, {name});
  }

  // --- BatchNorm folding --------------------------------------------------------------------

  void fold(const Node* convolution, const Node* batch_norm) {
    folds_[convolution] = batch_norm;
    folded_.insert(batch_norm);
  }
  [[nodiscard]] const Node* folded_into(const Node* convolution) const {
    auto it = folds_.find(convolution);
    return it == folds_.end() ? nullptr : it->second;
  }
  [[nodiscard]] bool is_folded(const Node* batch_norm) const {
    return folded_.contains(batch_norm);
  }

  // --- errors -------------------------------------------------------------------------------

  /// "aten::sigmoid (node 12 of the traced forward, after layer 'fc1', input [2, 10])": the
  /// layer is the one whose weights the op reads, or else the last one before it that has any.
  [[nodiscard]] std::string describe(const Node* n) const {
    auto layer = layer_of(n);
    std::string where = fmt::format("layer '{}'", layer);
    if (layer.empty()) {
      for (const auto* m : n->owningGraph()->nodes()) {
        if (m == n) break;
        if (auto l = layer_of(m); !l.empty()) layer = l;
      }
      where = layer.empty() ? std::string("before any layer with parameters")
                            : fmt::format("after layer '{}'", layer);
    }
    auto shape = n->inputs().empty() ? std::vector<std::int64_t>{} : sizes(n->input(0));
    return fmt::format("{} (node {} of the traced forward, {}, input {})", n->kind().toQualString(),
                       node_index(n), where, shape);
  }
  [[noreturn]] void fail(const Node* n, const std::string& why) const {
    throw error(fmt::format("cannot export {}: {}", describe(n), why));
  }

 private:
  [[nodiscard]] const c10::IValue& constant(const Node* n, std::size_t i,
                                            std::string_view what) const {
    const auto* c = constant_of(n->input(i));
    if (!c)
      fail(n, fmt::format("its {} is computed in forward; the export needs a constant", what));
    return *c;
  }
  /// The layer whose weights a node reads (directly, or in a list as an LSTM does); "" if none.
  [[nodiscard]] std::string layer_of(const Node* n) const {
    for (const auto* input : n->inputs()) {
      if (const auto* w = weight_of(input); w && !w->constant) return w->layer();
      if (input->node()->kind() == c10::prim::ListConstruct)
        for (const auto* element : input->node()->inputs())
          if (const auto* w = weight_of(element); w && !w->constant) return w->layer();
    }
    return "";
  }
  static std::size_t node_index(const Node* n) {
    std::size_t index = 0;
    for (const auto* m : n->owningGraph()->nodes()) {
      if (m == n) return index;
      if (m->kind() != c10::prim::Constant && m->kind() != c10::prim::ListConstruct) ++index;
    }
    return index;
  }

  std::unordered_map<const Value*, c10::IValue> constants_;
  std::unordered_map<const Value*, weight> weights_;
  std::unordered_map<const Value*, std::string> names_;
  std::unordered_map<const Node*, const Node*> folds_;
  std::unordered_set<const Node*> folded_;
  int constant_tensors_ = 0;
};

}  // namespace trellis::core::onnx_export
