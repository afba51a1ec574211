// model_summary: outputs/summary.json beside outputs/model.pt: which epoch's weights the model
// holds, the rule that chose them (select_best), that epoch's validation metrics and, evaluated
// once on those weights, the test split's metrics and confusion matrix. The workspace registers
// a model with these as its final metrics.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trellis/core/serialization/durable_file.hpp"

namespace trellis::core {

struct model_summary {
  std::string select_best;          ///< "val_accuracy", "val_loss", or another (the last epoch)
  std::size_t selected_epoch = 0;   ///< from 1
  std::size_t epochs = 0;           ///< epochs trained
  std::size_t steps = 0;            ///< optimizer steps
  std::map<std::string, double> metrics;  ///< of the selected epoch, and test_* of its weights
  std::vector<std::string> class_names;   ///< of the test confusion matrix's rows and columns
  std::vector<std::int64_t> confusion;    ///< test samples of class t predicted as p at [t*K + p]
};

/// Written aside and renamed into place: a reader never sees half a file, and a full disk is a
/// file_error naming it.
inline void write_model_summary(const std::filesystem::path& file, const model_summary& s) {
  nlohmann::json metrics = nlohmann::json::object();
  for (const auto& [name, value] : s.metrics)
    metrics[name] = std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
  nlohmann::json j{{"select_best", s.select_best},
                   {"selected_epoch", s.selected_epoch},
                   {"epochs", s.epochs},
                   {"steps", s.steps},
                   {"metrics", metrics}};
  if (!s.confusion.empty()) {
    const std::size_t k = s.class_names.size();
    nlohmann::json rows = nlohmann::json::array();
    for (std::size_t t = 0; t < k; ++t)
      rows.push_back(std::vector<std::int64_t>(
          s.confusion.begin() + static_cast<std::ptrdiff_t>(t * k),
          s.confusion.begin() + static_cast<std::ptrdiff_t>((t + 1) * k)));
    j["test_confusion"] = {{"classes", s.class_names}, {"counts", rows}};
  }
  replace_file(file, j.dump(2) + '\n');
}

}  // namespace trellis::core
