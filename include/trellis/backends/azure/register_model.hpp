// register_model on Azure: a new version of the model, made from the job's model output (a
// ModelVersion PUT whose modelUri is azureml://jobs/<job>/outputs/<output>). The version is the
// container's next one; a race with another registration moves on to the following number.
#pragma once
#include <fmt/format.h>

#include <string>

#include "trellis/backends/azure/answer_fields.hpp"
#include "trellis/backends/azure/arm_client.hpp"
#include "trellis/backends/azure/assets.hpp"

namespace trellis::backends::azure {

struct registered_model {
  std::string name, version, id;
};

inline registered_model register_model_version(arm_client& arm, const model_registration& m,
                                               const std::string& job, const std::string& output) {
  long version = 1;
  if (const auto container = arm.get_if_exists("models/" + m.name)) {
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
    const auto relative = model_registration::relative(m.name, std::to_string(version));
    try {
      arm.put(relative, m.body(job, output), "model " + m.name);
      return {m.name, std::to_string(version), arm.id(relative)};
    } catch (const arm_error& e) {
      if (e.status != 409 || attempt == 3) throw;
      ++version;  // another registration took this version meanwhile
    }
  }
}

}  // namespace trellis::backends::azure
