// The transfer_from source in the Azure ML workspace: the model version whose trellis.sha256 is
// its model.pt's, or, when Azure has none, model.pt uploaded (a code version of its own, the one
// upload the workspace API offers) and registered as the next version of its name. The job's
// model input then names that version.
#pragma once
#include <fmt/format.h>

#include <filesystem>
#include <stdexcept>
#include <string>

#include "trellis/backends/azure/arm_client.hpp"
#include "trellis/backends/azure/assets.hpp"
#include "trellis/backends/azure/register_model.hpp"
#include "trellis/backends/azure/snapshot.hpp"
#include "trellis/backends/azure/submit.hpp"

namespace trellis::backends::azure {

inline registered_model ensure_transfer_model(arm_client& arm, const transfer_model& t) {
  if (auto found = find_version_by_sha256(arm, t.name, t.sha256)) {
    detail::say(fmt::format("transfer_from {}: model {} holds its model.pt (SHA-256 {})",
                            t.local_ref, found->ref(), t.sha256.substr(0, 16)));
    return *found;
  }
  const auto bytes = std::filesystem::file_size(t.file);
  const snapshot file{
      t.file.parent_path(), {{t.file, "model.pt", bytes}}, {}, bytes, t.files.version};
  const auto code = ensure_code(arm, t.files, file);
  if (code.uri.empty())
    throw std::runtime_error(
        fmt::format("code {}:{} names no folder (codeUri)", t.files.name, t.files.version));
  auto model = put_next_version(arm, t.name, t.body(code.uri));
  detail::say(
      fmt::format("transfer_from {}: model.pt registered as model {}", t.local_ref, model.ref()));
  return model;
}

}  // namespace trellis::backends::azure
