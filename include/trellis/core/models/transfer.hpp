// Transfer learning: a model for a new class count whose backbone (every state-dict entry
// outside the head) comes from a saved state dict, with a freshly initialised head, and
// optionally a frozen backbone (see classifier::freeze_backbone for BatchNorm).
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "trellis/core/models/classifier.hpp"
#include "trellis/core/serialization/state_dict.hpp"

namespace trellis::core {

/// Copies every entry of `source` outside the model's head into the model; the head keeps its
/// own weights, whatever class count `source` was trained for. A missing or unexpected backbone
/// entry or a shape mismatch is a state_dict_error naming the entry (and both shapes).
inline void load_backbone(classifier& model, const state_dict& source,
                          const std::string& source_name = "in memory") {
  if (model.head_name().empty())
    throw std::invalid_argument(
        "[trellis] transfer: the model has no head to replace (a user module names it with "
        "`static constexpr std::string_view head_name` or has a Linear child)");
  load_state_dict(model, source,
                  {.skip = [&](const std::string& name) { return model.in_head(name); },
                   .source = source_name});
}

inline void load_backbone(classifier& model, const std::filesystem::path& file) {
  load_backbone(model, read_state_dict(file), file.string());
}

struct transfer_options {
  /// Train only the new head (see classifier::freeze_backbone).
  bool freeze_backbone = false;
};

/// `model`, freshly built for its new class count (make_model.hpp), with its backbone loaded from
/// `file`: the head keeps the initialisation its constructor gave it.
inline std::shared_ptr<classifier> transfer_model(std::shared_ptr<classifier> model,
                                                  const std::filesystem::path& file,
                                                  transfer_options options = {}) {
  if (!model) throw std::invalid_argument("[trellis] transfer: no model");
  load_backbone(*model, file);
  if (options.freeze_backbone) model->freeze_backbone();
  return model;
}

}  // namespace trellis::core
