// The plan's check that needs the workspace, run by --dry-run and before every run: a
// transfer_from source is registered (the latest version, or train.transfer_version), fits the
// train stage's model, and its model.pt is unchanged since registration. The resolved version
// goes into the plan, so every rank loads the same, verified file.
#pragma once
#include <cstdint>
#include <exception>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "trellis/cli/options.hpp"
#include "trellis/pipeline.hpp"
#include "trellis/plan/run_plan.hpp"
#include "trellis/workspace/pipeline_records.hpp"
#include "trellis/workspace/workspace.hpp"

namespace trellis::workspace {
/// The transfer_from check of a pipeline and, when it passes, the source for the plan.
template <class Pipeline>
plan::machine_check check_transfer_source(const Pipeline& p, const cli::options& o,
                                          std::optional<plan::transfer_source>& source) {
  using V = pipeline_view_t<Pipeline>;
  const std::string name{plan::to_std(V::train::transfer::name)};
  const auto pinned = get<stage_order::train>(p).transfer_version;
  const std::optional<std::int64_t> version =
      pinned > 0 ? std::optional{static_cast<std::int64_t>(pinned)} : std::nullopt;
  plan::machine_check c{"registry.transfer_from", false, ""};
  try {
    workspace w(o.workspace);
    const auto card = get_model_version(w.db(), name, version);
    const auto target = pipeline_architecture<Pipeline>();
    if (auto why = transfer_mismatch(card.arch, target, V::train::model::any_input_size)) {
      c.detail = fmt::format(
          "train: transfer_from<\"{}\"> cannot start from {}: {}. Fix: start from a version of "
          "a matching architecture (trellis models list), or change the train stage's model",
          name, card.ref().text(), *why);
      return c;
    }
    const auto file = verified_file(w.root(), card);
    source = plan::transfer_source{card.ref().text(), std::filesystem::absolute(file).string(),
                                   card.file("model.pt")->sha256};
    c.ok = true;
    c.detail = fmt::format("{} ({}), its model.pt unchanged since registration",
                           card.ref().text(), card.arch.describe());
  } catch (const model_not_found& e) {
    c.detail = fmt::format(
        "train: transfer_from<\"{}\">: {}. Fix: run the pipeline that registers it, or import "
        "a state dict with `trellis models import`",
        name, e.what());
  } catch (const std::exception& e) {
    c.detail = fmt::format("train: transfer_from<\"{}\">: {}", name, e.what());
  }
  return c;
}

}  // namespace trellis::workspace
