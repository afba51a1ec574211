// `trellis models list|show|download`: the model registry of a workspace, as aligned tables or,
// with --json, as JSON; download copies a version's files, each checked against its SHA-256.
#pragma once
#include <algorithm>
#include <iostream>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "arguments.hpp"
#include "table.hpp"
#include "text.hpp"
#include "trellis/workspace/workspace.hpp"

namespace trellis::tool {

namespace ws = trellis::workspace;

inline ws::model_card model_operand(ws::workspace& w, const arguments& a) {
  const auto spec = ws::parse_model_spec(a.operand(2, "NAME[:VERSION] (see trellis models list)"));
  return ws::get_model_version(w.db(), spec.name, spec.version);
}

inline int models_list(ws::workspace& w, const arguments& a) {
  a.allow({"json"}, {});
  const auto models = ws::list_models(w.db());
  if (a.flag("json")) {
    auto out = nlohmann::json::array();
    for (const auto& m : models) {
      const auto latest = ws::get_model_version(w.db(), m.name, m.latest);
      out.push_back({{"name", m.name},
                     {"versions", m.versions},
                     {"latest", ws::to_json(latest)}});
    }
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  table t({{"MODEL", false, true},
           {"LATEST", true},
           {"REGISTERED"},
           {"ARCHITECTURE", false, true},
           {"RUN", false, true}});
  for (const auto& m : models) {
    const auto c = ws::get_model_version(w.db(), m.name, m.latest);
    t.add({m.name, std::to_string(m.latest), time_text(c.created_at, true),
           fmt::format("{} {}x{}x{} {}cl", c.arch.model, c.arch.channels, c.arch.height,
                       c.arch.width, c.arch.classes),
           c.run_id.value_or("imported")});
  }
  std::cout << (t.empty() ? "no models registered yet\n" : t.render());
  return 0;
}

inline int models_show(ws::workspace& w, const arguments& a) {
  a.allow({"json"}, {});
  const auto c = model_operand(w, a);
  const auto folder = ws::version_folder(w.root(), c.ref());
  if (a.flag("json")) {
    auto out = ws::to_json(c);
    out["folder"] = folder.string();
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  auto field = [](std::string_view name, const std::string& value) {
    std::cout << fmt::format("{:<13}{}\n", name, value);
  };
  field("model", c.ref().text());
  field("registered", time_text(c.created_at));
  if (!c.description.empty()) field("description", c.description);
  field("architecture", c.arch.describe());
  field("run", c.run_id.value_or("none (imported)"));
  field("parent", c.parent ? c.parent->text() : "none");
  if (c.dataset_fingerprint) field("dataset", "sha256 " + c.dataset_fingerprint->substr(0, 16));
  std::string tags;
  for (const auto& [k, v] : c.tags) tags += fmt::format("{}{}={}", tags.empty() ? "" : ", ", k, v);
  if (!tags.empty()) field("tags", tags);
  std::size_t name_width = 0;
  for (const auto& [name, value] : c.metrics) name_width = std::max(name_width, name.size() + 2);
  bool first = true;
  for (const auto& [name, value] : c.metrics) {
    field(first ? "metrics" : "", fmt::format("{:<{}}{}", name, name_width, value_text(value)));
    first = false;
  }
  first = true;
  for (const auto& f : c.files) {
    field(first ? "files" : "",
          fmt::format("{:<16}{:>12} bytes  sha256 {}", f.path, f.size, f.sha256.substr(0, 16)));
    first = false;
  }
  field("folder", folder.string());
  return 0;
}

inline int models_download(ws::workspace& w, const arguments& a) {
  a.allow({}, {});
  const auto c = model_operand(w, a);
  const std::filesystem::path dir = a.operand(3, "DIR to download into");
  for (const auto& file : ws::download_model(w.root(), c, dir))
    std::cout << fmt::format("{}\n", file.string());
  std::cout << fmt::format("{} downloaded to {}, every file checked against its SHA-256\n",
                           c.ref().text(), dir.string());
  return 0;
}

}  // namespace trellis::tool
