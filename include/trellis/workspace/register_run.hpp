// register_trained_model: carries out a pipeline's register_model after its run: the weights
// that select_best chose (outputs/model.pt) become the next version of the stage's name, with
// the run's final metrics (outputs/summary.json), architecture, dataset fingerprint, tags and
// description, and the transfer_from version it started from as its parent. Any backend whose
// outputs folder holds those files uses it.
#pragma once
#include <filesystem>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trellis/pipeline.hpp"
#include "trellis/plan/field_values.hpp"
#include "trellis/plan/run_plan.hpp"
#include "trellis/workspace/pipeline_records.hpp"
#include "trellis/workspace/registry.hpp"

namespace trellis::workspace {

/// What rank 0 writes beside the model: the epoch select_best chose and its metrics.
inline constexpr const char* summary_file = "summary.json";

inline nlohmann::json read_summary(const std::filesystem::path& outputs) {
  const auto file = outputs / summary_file;
  std::ifstream in(file);
  if (!in)
    throw registry_error(fmt::format("'{}' is missing: the run wrote no summary of its model",
                                     file.string()));
  const auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("metrics") || !j["metrics"].is_object())
    throw registry_error(fmt::format("'{}' is not a run summary", file.string()));
  return j;
}

/// The summary's metrics, if it has any; null (a value that was not finite) reads as NaN.
inline std::map<std::string, double> summary_metrics(const nlohmann::json& summary) {
  std::map<std::string, double> out;
  const auto metrics = summary.find("metrics");
  if (metrics == summary.end() || !metrics->is_object()) return out;
  for (const auto& [name, value] : metrics->items())
    out[name] = value.is_number() ? value.get<double>() : std::nan("");
  return out;
}

struct trained_model {
  std::string run_id;
  std::filesystem::path outputs;  ///< the run's outputs/ (model.pt, summary.json, ...)
  std::optional<std::string> dataset_fingerprint;
  std::optional<plan::transfer_source> parent;
  /// Further files of the version besides model.pt (e.g. {"model.onnx", outputs/model.onnx}).
  std::vector<std::pair<std::string, std::filesystem::path>> extra_files;
};

/// `onnx`, when the version holds an ONNX file: what its check found (recorded in the card).
template <class Pipeline>
model_card register_trained_model(database& db, const std::filesystem::path& root,
                                   const Pipeline& p, const trained_model& m,
                                   const nlohmann::json& onnx = nullptr) {
  using V = pipeline_view_t<Pipeline>;
  static_assert(V::has_register_model,
                "register_trained_model: the pipeline has no register_model");
  const auto& stage = get<stage_order::register_model>(p);
  const auto summary = read_summary(m.outputs);
  registration r;
  r.name = std::string{plan::to_std(V::register_model::facts.name)};
  r.description = std::string{plan::to_std(stage.description.view())};
  for (const auto& t : stage.tags)
    r.tags[std::string{plan::to_std(t.key.view())}] = std::string{plan::to_std(t.value.view())};
  r.arch = pipeline_architecture<Pipeline>();
  r.metrics = summary_metrics(summary);
  r.run_id = m.run_id;
  r.dataset_fingerprint = m.dataset_fingerprint;
  if (m.parent) {
    const auto spec = parse_model_spec(m.parent->model);
    r.parent = model_ref{spec.name, spec.version.value_or(0)};
  }
  r.files = {{"model.pt", m.outputs / "model.pt"}};
  r.files.insert(r.files.end(), m.extra_files.begin(), m.extra_files.end());
  r.details = summary;
  r.details.erase("metrics");
  if (!onnx.is_null()) r.details["onnx"] = onnx;
  return register_model(db, root, r);
}

}  // namespace trellis::workspace
