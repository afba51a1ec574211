// trellis::core::onnx_export::error: why a model could not be exported to ONNX, or why a written
// file failed its checks. The message names the file, layer, node or field at fault.
#pragma once
#include <stdexcept>
#include <string>

namespace trellis::core::onnx_export {

class error : public std::runtime_error {
 public:
  explicit error(const std::string& what) : std::runtime_error("[trellis] export_onnx: " + what) {}
};

}  // namespace trellis::core::onnx_export
