// summary: what a run's results page and a scenario's comparison page show, as plain values
// that the workspace (or anything else) fills in; no database, no LibTorch.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace trellis::report {

struct point {
  double x = 0;  ///< the epoch (1, 2, ...) for learning curves
  double y = 0;  ///< NaN or infinite: left out, leaving a gap in the line
};

/// One line of a chart; `name` is its legend entry (train_loss, val_accuracy, ...).
struct series {
  std::string name;
  std::vector<point> points;
};

/// Test-split predictions: counts[true class][predicted class].
struct confusion_matrix {
  std::vector<std::string> class_names;
  std::vector<std::vector<std::int64_t>> counts;
};

/// One rank of the run's rank map and what it trained.
struct rank_row {
  int rank = 0;
  std::string node;    ///< host name, or the Azure node
  int local_rank = 0;  ///< rank on its node
  std::string device;  ///< "cpu", "cuda:0", ...
  double images_per_second = 0;
};

/// A registered model version, shown as name:version.
struct model_version {
  std::string name;
  int version = 0;
};

inline std::string version_text(const model_version& v) {
  return v.name + ":" + std::to_string(v.version);
}

struct model_lineage {
  std::optional<model_version> registered;  ///< what this run registered, if it did
  std::optional<model_version> parent;      ///< the transfer source; none: trained from scratch
  std::string parent_run_id;                ///< the run that trained the parent, if known
};

struct run_summary {
  std::string run_id;
  std::string experiment;
  std::string description;       ///< one line under the title; may be empty
  std::vector<series> loss;      ///< per epoch: train_loss, val_loss
  std::vector<series> accuracy;  ///< per epoch: train_accuracy, val_accuracy
  confusion_matrix test_confusion;
  std::map<std::string, double> final_metrics;  ///< test_accuracy, test_loss, ...
  std::vector<rank_row> ranks;
  model_lineage lineage;
};

/// One side of a comparison: a run under a label such as "transfer" or "from scratch".
struct compared_run {
  std::string label;
  std::string run_id;
  std::string page;  ///< its results page, relative to the comparison page; empty: no link
  series val_accuracy;
  std::optional<double> test_accuracy;
  std::optional<model_version> parent;
};

struct comparison_summary {
  std::string title;
  std::string description;
  std::vector<compared_run> runs;
};

}  // namespace trellis::report
