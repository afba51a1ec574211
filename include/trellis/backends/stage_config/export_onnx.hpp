// The `export_onnx<opset<N>, dynamic_batch|static_batch>{.file}` stage as the core's
// onnx_export::options, what export_verified and check_exportable take.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>

#include "trellis/core/onnx/options.hpp"
#include "trellis/stages/export_onnx.hpp"

namespace trellis::backends {

/// The stage's opset, batch axis and file name (relative: the backend places it, e.g. under the
/// run's outputs folder); BatchNorm folded; the run id and model type for the file's metadata.
template <class... Ps>
core::onnx_export::options export_options_for(const export_onnx<Ps...>& stage,
                                              std::string run_id = {},
                                              std::string model_type = {}) {
  core::onnx_export::options out;
  out.file = std::filesystem::path(stage.file.c_str());
  out.opset = static_cast<std::int64_t>(export_onnx<Ps...>::facts.opset);
  out.dynamic_batch = export_onnx<Ps...>::facts.dynamic_batch;
  out.run_id = std::move(run_id);
  out.model_type = std::move(model_type);
  return out;
}

}  // namespace trellis::backends
