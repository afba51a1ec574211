// model_summary: outputs/summary.json beside outputs/model.pt: which epoch's weights the model
// holds, the rule that chose them (select_best), and that epoch's validation metrics. The
// workspace registers a model with these as its final metrics.
#pragma once
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "trellis/core/serialization/durable_file.hpp"

namespace trellis::core {

struct model_summary {
  std::string select_best;          ///< "val_accuracy", "val_loss", or another (the last epoch)
  std::size_t selected_epoch = 0;   ///< from 1
  std::size_t epochs = 0;           ///< epochs trained
  std::size_t steps = 0;            ///< optimizer steps
  std::map<std::string, double> metrics;  ///< of the selected epoch
};

/// Written aside and renamed into place: a reader never sees half a file, and a full disk is a
/// file_error naming it.
inline void write_model_summary(const std::filesystem::path& file, const model_summary& s) {
  nlohmann::json metrics = nlohmann::json::object();
  for (const auto& [name, value] : s.metrics)
    metrics[name] = std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
  const nlohmann::json j{{"select_best", s.select_best},
                         {"selected_epoch", s.selected_epoch},
                         {"epochs", s.epochs},
                         {"steps", s.steps},
                         {"metrics", metrics}};
  replace_file(file, j.dump(2) + '\n');
}

}  // namespace trellis::core
