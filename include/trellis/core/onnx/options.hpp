// What an ONNX export writes: opset, batch axis, BatchNorm folding, the metadata stored in the
// file, and the tolerance its verification allows. Also the opset range trellis writes.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

namespace trellis::core::onnx_export {

/// IR 8 with opsets 7..17: the newest pair Debian's ONNX 1.12 checks (rule E019 allows the same).
inline constexpr std::int64_t ir_version = 8;
inline constexpr std::int64_t min_opset = 7;
inline constexpr std::int64_t max_opset = 17;

inline constexpr std::string_view producer_name = "trellis";
/// trellis's version (project(VERSION) in the top CMakeLists.txt; the export tests compare them).
inline constexpr std::string_view producer_version = "0.1.0";

/// The names of the graph's one input (images [N, C, H, W]) and one output (logits [N, K]), and
/// of the symbolic batch dimension under a dynamic batch.
inline constexpr std::string_view input_name = "input";
inline constexpr std::string_view output_name = "output";
inline constexpr std::string_view batch_dim_name = "batch";

struct options {
  std::filesystem::path file = "model.onnx";
  std::int64_t opset = max_opset;
  /// A symbolic batch dimension (any batch size runs); otherwise the batch is `batch_size`.
  bool dynamic_batch = true;
  std::int64_t batch_size = 1;
  /// BatchNorm (eval mode) folded into the convolution before it, as torch.onnx does; otherwise
  /// kept as BatchNormalization nodes.
  bool fold_batch_norm = true;
  /// Stored in metadata_props, with "classes", "input_shape", "batch" and "batch_norm" added by
  /// the export.
  std::string run_id = {};
  std::string model_type = {};
  std::map<std::string, std::string> metadata = {};
  /// Verification: the largest |ONNX - LibTorch| allowed, for logits up to 1 in magnitude; above
  /// that it scales with the largest logit (see verify.hpp).
  double tolerance = 1e-4;
};

}  // namespace trellis::core::onnx_export
