// Model versions in the Azure ML workspace: the pipeline's register_model, a new version made
// from the job's model output (modelUri azureml://jobs/<job>/outputs/<output>), and the version
// a transfer_from source is found under by its trellis.sha256 property. A new version is the
// container's next one; a race with another registration moves on to the following number.
#pragma once
#include <fmt/format.h>

#include <optional>
#include <string>

#include "trellis/backends/azure/answer_fields.hpp"
#include "trellis/backends/azure/arm_client.hpp"
#include "trellis/backends/azure/assets.hpp"

namespace trellis::backends::azure {

struct registered_model {
  std::string name, version, id;
  [[nodiscard]] std::string ref() const { return name + ":" + version; }
};

/// PUTs `body` as the next version of model `name`.
inline registered_model put_next_version(arm_client& arm, const std::string& name,
                                         const json& body) {
  long version = 1;
  if (const auto container = arm.get_if_exists("models/" + name)) {
    const auto props = part_of(*container, "properties");
    const std::string next = text_of(props, "nextVersion"),
                      latest = text_of(props, "latestVersion");
    try {
      version = !next.empty() ? std::stol(next) : (!latest.empty() ? std::stol(latest) + 1 : 1);
    } catch (const std::exception&) {
      version = 1;  // versions that are not numbers: start numbering
    }
  }
  for (int attempt = 0;; ++attempt) {
    const auto relative = model_registration::relative(name, std::to_string(version));
    try {
      arm.put(relative, body, "model " + name);
      return {name, std::to_string(version), arm.id(relative)};
    } catch (const arm_error& e) {
      if (e.status != 409 || attempt == 3) throw;
      ++version;  // another registration took this version meanwhile
    }
  }
}

inline registered_model register_model_version(arm_client& arm, const model_registration& m,
                                               const std::string& job, const std::string& output) {
  return put_next_version(arm, m.name, m.body(job, output));
}

/// The version of model `name` whose trellis.sha256 property is `sha256`, if Azure has one.
inline std::optional<registered_model> find_version_by_sha256(arm_client& arm,
                                                              const std::string& name,
                                                              const std::string& sha256) {
  auto page = arm.get_if_exists("models/" + name + "/versions");
  while (page) {
    for (const auto& v : part_of(*page, "value", true))
      if (text_of(part_of(part_of(v, "properties"), "properties"), "trellis.sha256") == sha256)
        return registered_model{name, text_of(v, "name"), text_of(v, "id")};
    const std::string next = text_of(*page, "nextLink");
    if (next.empty()) break;
    page = arm.get_absolute(next);
  }
  return std::nullopt;
}

}  // namespace trellis::backends::azure
