// export_onnx<opset<N>, dynamic_batch>{.file = ...}: outputs/model.onnx, checked after export.
// Rules: E005 (needs train), E006 (static shape), E018 (exportable model), E019 (opset).
#pragma once
#include <cstddef>

#include "trellis/text.hpp"
#include "trellis/params/export.hpp"
#include "trellis/params/param.hpp"
#include "trellis/stages/stage.hpp"

namespace trellis {

/// An `export_onnx`'s compile-time values, which rules and plan writers read; the defaults stand
/// for a pipeline without one.
struct export_onnx_facts {
  param_flags params;
  std::size_t opset = 17;
  bool dynamic_batch = true;
};

/// What an `export_onnx` has of a kind when no parameter of that kind is given.
struct export_onnx_defaults {
  using opset = trellis::opset<17>;
  using batch_axis = trellis::dynamic_batch;
};

template <class... Ps>
struct export_onnx {
  static constexpr stage_order order = stage_order::export_onnx;
  using accepted_kinds = kind_list<kinds::opset, kinds::batch_axis>;
  using required_kinds = kind_list<>;
  using param_kinds = kinds_of<Ps...>;
  /// The parameters given, over the defaults: see given_t.
  using given = given_t<export_onnx_defaults, Ps...>;
  static constexpr export_onnx_facts facts{
      .params = param_flags_v<accepted_kinds, required_kinds, param_kinds>,
      .opset = given::opset::value,
      .dynamic_batch = given::batch_axis::value};

  text file = "model.onnx";

  template <class Self, class Fields>
  static void fields(Self& self, Fields& f) {
    f.fixed("opset", facts.opset);
    f.fixed("ir_version", std::size_t{8});
    f.fixed("dynamic_batch", facts.dynamic_batch);
    f.setting("file", self.file, not_empty);
  }
};

}  // namespace trellis
