// `trellis models import NAME --file F --model M --classes K --input-shape C,H,W`: registers a
// state dict saved elsewhere (Python's torch.save(model.state_dict())) as a new version, after
// checking that it loads strictly into that architecture, so it can be a transfer_from source.
#pragma once
#include <array>
#include <filesystem>
#include <iostream>
#include <string>

#include <fmt/format.h>

#include "arguments.hpp"
#include "trellis/core/models/make_model.hpp"
#include "trellis/core/serialization/state_dict.hpp"
#include "trellis/workspace/workspace.hpp"

namespace trellis::tool {

namespace detail {
/// "C,H,W" with each a whole number from 1.
inline std::array<std::int64_t, 3> input_shape(const std::string& text) {
  std::array<std::int64_t, 3> dims{};
  std::size_t at = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    const auto comma = text.find(',', at);
    const std::string part = text.substr(at, comma == std::string::npos ? comma : comma - at);
    if ((i < 2) == (comma == std::string::npos) || part.empty())
      throw usage_error(fmt::format("--input-shape={}: expected C,H,W, e.g. 3,224,224", text));
    dims[i] = whole_number(part, "input-shape");
    if (dims[i] < 1) throw usage_error(fmt::format("--input-shape={}: sizes start at 1", text));
    at = comma + 1;
  }
  return dims;
}

inline std::map<std::string, std::string> tags(const arguments& a) {
  std::map<std::string, std::string> out;
  for (const auto& t : a.values("tag")) {
    const auto eq = t.find('=');
    if (eq == std::string::npos || eq == 0)
      throw usage_error(fmt::format("--tag {}: expected KEY=VALUE", t));
    out[t.substr(0, eq)] = t.substr(eq + 1);
  }
  return out;
}
}  // namespace detail

inline int models_import(workspace::workspace& w, const arguments& a) {
  a.allow({}, {"file", "model", "classes", "input-shape", "description", "tag"});
  const std::string name = a.operand(2, "NAME to register the model as");
  const std::filesystem::path file = a.required("file");
  const auto shape = detail::input_shape(a.required("input-shape"));
  workspace::registration r;
  r.name = name;
  r.arch = {a.required("model"), whole_number(a.required("classes"), "classes"), shape[0],
            shape[1], shape[2]};
  if (r.arch.classes < 2) throw usage_error("--classes: a classifier has at least 2 classes");
  r.description = a.value("description").value_or("imported from " + file.filename().string());
  r.tags = detail::tags(a);
  r.files = {{"model.pt", file}};
  r.details = {{"imported_from", std::filesystem::absolute(file).string()}};

  // The file must be this architecture's state dict, entry for entry: found now, not when a
  // pipeline starts from it.
  const auto model = core::make_builtin_model(r.arch.model, r.arch.channels, r.arch.classes,
                                              {r.arch.height, r.arch.width});
  core::load_state_dict(*model, file);

  const auto card = workspace::register_model(w.db(), w.root(), r);
  std::cout << fmt::format("registered {} ({}) from {}\n", card.ref().text(), card.arch.describe(),
                           file.string());
  return 0;
}

}  // namespace trellis::tool
