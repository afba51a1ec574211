// export_trained_model: a pipeline's export_onnx, carried out on rank 0 after training: the weights
// model.pt holds (those select_best chose) go to outputs/<file>, which is checked (ONNX checker,
// strict shape inference) and compared with LibTorch's outputs on a batch of validation images
// before it counts as exported; the check's report goes beside it as <file>.json, for the
// registry and the terminal.
#pragma once
#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trellis/backends/stage_config/export_onnx.hpp"
#include "trellis/core/onnx/verify.hpp"
#include "trellis/core/serialization/state_dict.hpp"
#include "trellis/core/train/run_files.hpp"
#include "trellis/pipeline.hpp"
#include "trellis/plan/field_values.hpp"

namespace trellis::backends {

inline nlohmann::json to_json(const core::onnx_export::report& r) {
  return {{"file", r.file.filename().string()},
          {"opset", r.opset},
          {"dynamic_batch", r.dynamic_batch},
          {"nodes", r.nodes},
          {"initializers", r.initializers},
          {"checker_passed", r.checker_passed},
          {"shape_inference_passed", r.shape_inference_passed},
          {"images_compared", r.images_compared},
          {"max_abs_diff", r.max_abs_diff},
          {"allowed_diff", r.allowed_diff}};
}

/// The report of an export, outputs/<file>.json.
inline std::filesystem::path export_report_file(const std::filesystem::path& onnx_file) {
  auto file = onnx_file;
  file += ".json";
  return file;
}

/// Exports `model` with model.pt's weights loaded into it; throws, leaving no <file>, when the
/// export or its check fails.
template <class Pipeline>
core::onnx_export::report export_trained_model(const Pipeline& p, core::classifier& model,
                                               const core::run_files& files,
                                               const torch::Tensor& images,
                                               const std::string& run_id) {
  using V = pipeline_view_t<Pipeline>;
  core::load_state_dict(model, files.model);
  auto options = export_options_for(get<stage_order::export_onnx>(p), run_id,
                                    std::string{plan::to_std(V::train::model::name)});
  options.file = files.model.parent_path() / options.file;
  const auto report = core::onnx_export::export_verified(model, options, images);
  std::ofstream out(export_report_file(options.file));
  out << to_json(report).dump(2) << '\n';
  if (!out.flush())
    throw std::runtime_error(
        fmt::format("cannot write '{}'", export_report_file(options.file).string()));
  return report;
}

}  // namespace trellis::backends
