// The Azure ML workspace a run goes to: subscription, resource group and workspace name, read
// from config.json as Azure's Workspace.from_config / MLClient.from_config find it (config.json
// or .azureml/config.json in the current folder, then in each parent folder), each overridden by
// --subscription, --resource-group and --azure-workspace.
#pragma once
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "trellis/cli/options.hpp"

namespace trellis::backends::azure {

struct workspace_ref {
  std::string subscription, resource_group, name;
  std::filesystem::path config_file;  ///< where the values not given as flags came from, if any

  /// The ARM path every workspace resource lives under.
  [[nodiscard]] std::string path() const {
    return fmt::format(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.MachineLearningServices/"
        "workspaces/{}",
        subscription, resource_group, name);
  }
};

/// The first config.json (or .azureml/config.json) from `start` upwards that names a workspace.
inline std::optional<std::filesystem::path> find_workspace_config(std::filesystem::path start) {
  namespace fs = std::filesystem;
  std::error_code ec;
  start = fs::absolute(start, ec);
  for (fs::path dir = start;; dir = dir.parent_path()) {
    for (const fs::path& candidate : {dir / "config.json", dir / ".azureml" / "config.json"}) {
      if (!fs::is_regular_file(candidate, ec)) continue;
      std::ifstream in(candidate);
      const auto j = nlohmann::json::parse(in, nullptr, false);
      // Many tools write a config.json; only one with the workspace keys is Azure's.
      if (j.is_object() && (j.contains("subscription_id") || j.contains("workspace_name")))
        return candidate;
    }
    if (dir == dir.parent_path()) return std::nullopt;
  }
}

/// The workspace from the flags, filled in from config.json; throws naming what is missing.
inline workspace_ref resolve_workspace(
    const cli::options& o, const std::filesystem::path& start = std::filesystem::current_path()) {
  workspace_ref ws{o.azure_subscription, o.azure_resource_group, o.azure_workspace, {}};
  if (ws.subscription.empty() || ws.resource_group.empty() || ws.name.empty()) {
    if (const auto file = find_workspace_config(start)) {
      std::ifstream in(*file);
      const auto j = nlohmann::json::parse(in, nullptr, false);
      auto fill = [&](std::string& field, const char* key) {
        if (field.empty() && j.contains(key) && j[key].is_string())
          field = j[key].get<std::string>();
      };
      fill(ws.subscription, "subscription_id");
      fill(ws.resource_group, "resource_group");
      fill(ws.name, "workspace_name");
      ws.config_file = *file;
    }
  }
  std::vector<std::string> missing;
  if (ws.subscription.empty()) missing.emplace_back("--subscription (subscription_id)");
  if (ws.resource_group.empty()) missing.emplace_back("--resource-group (resource_group)");
  if (ws.name.empty()) missing.emplace_back("--azure-workspace (workspace_name)");
  if (!missing.empty())
    throw std::runtime_error(fmt::format(
        "no Azure ML workspace: {} not given{}; pass the flags or put a config.json (as the Azure "
        "ML "
        "studio downloads it) in this folder, its .azureml/ folder or a parent folder",
        fmt::join(missing, ", "),
        ws.config_file.empty() ? std::string{" and no config.json was found"}
                               : fmt::format(" and not in {}", ws.config_file.string())));
  return ws;
}

}  // namespace trellis::backends::azure
