// model_card: what the registry records of a model version — architecture, final metrics,
// lineage (run, dataset, parent version), tags and every file's SHA-256 — and its JSON form,
// written as model.json in the version folder and kept in the database.
#pragma once
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trellis/workspace/error.hpp"

namespace trellis::workspace {

/// Enough to rebuild the model and to tell whether another pipeline can start from it.
struct architecture {
  std::string model;  ///< the model type: "resnet18", "small_cnn", a user module's name
  std::int64_t classes = 0;
  std::int64_t channels = 0;
  std::int64_t height = 0;  ///< 0: not fixed by the pipeline
  std::int64_t width = 0;

  [[nodiscard]] std::string describe() const {
    return height > 0 ? fmt::format("{} for input [{}, {}, {}] ({} classes)", model, channels,
                                    height, width, classes)
                      : fmt::format("{} for {}-channel input ({} classes)", model, channels,
                                    classes);
  }
};

/// "name:version".
struct model_ref {
  std::string name;
  std::int64_t version = 0;
  [[nodiscard]] std::string text() const { return fmt::format("{}:{}", name, version); }
};

/// A file of a version, relative to its folder.
struct artifact {
  std::string path;
  std::string sha256;
  std::uint64_t size = 0;
};

struct model_card {
  std::string name;
  std::int64_t version = 0;
  double created_at = 0;
  std::string description;
  std::map<std::string, std::string> tags;
  architecture arch;
  std::map<std::string, double> metrics;  ///< the registered weights' final metrics
  std::optional<std::string> run_id;      ///< the run that trained it; none for an import
  std::optional<std::string> dataset_fingerprint;
  std::optional<model_ref> parent;  ///< the version it was fine-tuned from
  std::vector<artifact> files;      ///< model.pt first
  nlohmann::json details = nlohmann::json::object();  ///< e.g. the selected epoch, ONNX facts

  [[nodiscard]] model_ref ref() const { return {name, version}; }
  [[nodiscard]] const artifact* file(std::string_view path) const {
    for (const auto& f : files)
      if (f.path == path) return &f;
    return nullptr;
  }
};

inline nlohmann::json to_json(const model_card& c) {
  nlohmann::json j;
  j["name"] = c.name;
  j["version"] = c.version;
  j["created_at"] = c.created_at;
  j["description"] = c.description;
  j["tags"] = c.tags;
  j["architecture"] = {{"model", c.arch.model},
                       {"classes", c.arch.classes},
                       {"input_shape", {c.arch.channels, c.arch.height, c.arch.width}}};
  nlohmann::json metrics = nlohmann::json::object();
  for (const auto& [k, v] : c.metrics) metrics[k] = std::isfinite(v) ? nlohmann::json(v) : nullptr;
  j["metrics"] = metrics;
  j["run"] = c.run_id ? nlohmann::json(*c.run_id) : nullptr;
  j["dataset_fingerprint"] =
      c.dataset_fingerprint ? nlohmann::json(*c.dataset_fingerprint) : nullptr;
  j["parent"] = c.parent ? nlohmann::json{{"name", c.parent->name}, {"version", c.parent->version}}
                         : nlohmann::json(nullptr);
  j["files"] = nlohmann::json::array();
  for (const auto& f : c.files)
    j["files"].push_back({{"path", f.path}, {"sha256", f.sha256}, {"size", f.size}});
  j["details"] = c.details;
  return j;
}

/// Reads a card written by to_json; `source` names it in errors.
inline model_card card_from_json(const nlohmann::json& j, std::string_view source) {
  try {
    model_card c;
    c.name = j.at("name").get<std::string>();
    c.version = j.at("version").get<std::int64_t>();
    c.created_at = j.at("created_at").get<double>();
    c.description = j.at("description").get<std::string>();
    c.tags = j.at("tags").get<std::map<std::string, std::string>>();
    const auto& a = j.at("architecture");
    c.arch.model = a.at("model").get<std::string>();
    c.arch.classes = a.at("classes").get<std::int64_t>();
    const auto& shape = a.at("input_shape");
    c.arch.channels = shape.at(0).get<std::int64_t>();
    c.arch.height = shape.at(1).get<std::int64_t>();
    c.arch.width = shape.at(2).get<std::int64_t>();
    for (const auto& [k, v] : j.at("metrics").items())
      c.metrics[k] = v.is_number() ? v.get<double>() : std::nan("");
    if (!j.at("run").is_null()) c.run_id = j.at("run").get<std::string>();
    if (!j.at("dataset_fingerprint").is_null())
      c.dataset_fingerprint = j.at("dataset_fingerprint").get<std::string>();
    if (const auto& p = j.at("parent"); !p.is_null())
      c.parent = model_ref{p.at("name").get<std::string>(), p.at("version").get<std::int64_t>()};
    for (const auto& f : j.at("files"))
      c.files.push_back({f.at("path").get<std::string>(), f.at("sha256").get<std::string>(),
                         f.at("size").get<std::uint64_t>()});
    c.details = j.value("details", nlohmann::json::object());
    return c;
  } catch (const nlohmann::json::exception& e) {
    throw registry_error(fmt::format("{}: not a model card: {}", source, e.what()));
  }
}

/// "name" or "name:version" (version from 1); nullopt version means the latest.
struct model_spec {
  std::string name;
  std::optional<std::int64_t> version;
};

inline model_spec parse_model_spec(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return {std::string{text}, std::nullopt};
  const std::string digits{text.substr(colon + 1)};
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos ||
      digits.size() > 9 || std::stoll(digits) < 1)
    throw registry_error(fmt::format(
        "'{}': expected NAME or NAME:VERSION with VERSION a whole number from 1", text));
  return {std::string{text.substr(0, colon)}, std::stoll(digits)};
}

}  // namespace trellis::workspace
