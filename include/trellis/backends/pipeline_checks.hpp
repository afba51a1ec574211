// The plan's checks that need the heavy parts, run by --dry-run and before every run, on this
// machine: a transfer_from source registered in the workspace that fits the model and is
// unchanged (workspace/plan_checks.hpp), and a model that export_onnx can export, found by
// tracing a freshly built one rather than after hours of training.
#pragma once
#include <exception>
#include <string>

#include <fmt/format.h>

#include "trellis/backend.hpp"
#include "trellis/backends/pipeline_model.hpp"
#include "trellis/backends/stage_config/export_onnx.hpp"
#include "trellis/cli/options.hpp"
#include "trellis/core/onnx/exporter.hpp"
#include "trellis/pipeline.hpp"
#include "trellis/plan/run_plan.hpp"
#include "trellis/workspace/plan_checks.hpp"

namespace trellis {

namespace backends {
/// Whether the train stage's model lowers to ONNX at the stage's opset, with the counts of the
/// nodes it becomes, or the layers it cannot.
template <class Pipeline>
plan::machine_check check_onnx_export(const Pipeline& p) {
  using V = pipeline_view_t<Pipeline>;
  plan::machine_check c{"export_onnx.model", false, ""};
  constexpr dims input = V::dataset::input_dims();
  try {
    const auto model = make_pipeline_model<Pipeline>();
    const auto options = export_options_for(get<stage_order::export_onnx>(p));
    const auto nodes = core::onnx_export::check_exportable(
        *model, {static_cast<std::int64_t>(input.channels), static_cast<std::int64_t>(input.height),
                 static_cast<std::int64_t>(input.width)},
        options);
    std::string counts;
    int total = 0;
    for (const auto& [op, n] : nodes) {
      counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", n, op);
      total += n;
    }
    c.ok = true;
    c.detail = fmt::format("{} becomes {} ONNX nodes at opset {} ({})",
                           plan::to_std(V::train::model::name), total, options.opset, counts);
  } catch (const std::exception& e) {
    c.detail = e.what();  // "[trellis] export_onnx: cannot export ..., naming the layer"
  }
  return c;
}
}  // namespace backends

template <class Pipeline>
  requires(is_pipeline_v<Pipeline>)
struct pipeline_checks<Pipeline> {
  static constexpr bool available = true;
  static void add(const Pipeline& p, plan::run_plan& plan, const cli::options& o) {
    using V = pipeline_view_t<Pipeline>;
    if constexpr (!V::train::transfer::name.empty())
      plan.checks.push_back(workspace::check_transfer_source(p, o, plan.transfer));
    if constexpr (V::has_export_onnx) plan.checks.push_back(backends::check_onnx_export(p));
  }
};

}  // namespace trellis
