// Realistic inputs for the results pages: the scenario of Azure ML's "train PyTorch models at
// scale" how-to as trellis runs it. A ResNet-18 pre-trained on five Fashion-MNIST classes is
// fine-tuned on the other five ("transfer"), against the same training from scratch; 15 epochs,
// 2 nodes x 2 GPUs. Curves follow saturating exponentials with a little jitter; the confusion
// matrix and test accuracy agree with each other.
#pragma once
#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "trellis/report/summary.hpp"

namespace trellis::report::testing {

inline constexpr int sample_epochs = 15;

/// from + (to - from) * (1 - e^(-rate (epoch - 1))), jittered by up to `jitter`.
inline series curve(std::string name, double from, double to, double rate, double jitter,
                    double phase) {
  series s{std::move(name), {}};
  for (int e = 1; e <= sample_epochs; ++e)
    s.points.push_back({double(e), from + (to - from) * (1 - std::exp(-rate * (e - 1))) +
                                       jitter * std::sin(1.7 * e + phase)});
  return s;
}

/// Test predictions of `per_class` images a class: class c right with probability `recall[c]`,
/// its mistakes spread over the other classes by how alike they look (`alike[c][p]`).
inline confusion_matrix confusion(std::vector<std::string> names, const std::vector<double>& recall,
                                  const std::vector<std::vector<double>>& alike,
                                  std::int64_t per_class) {
  confusion_matrix m{std::move(names), {}};
  for (std::size_t t = 0; t < recall.size(); ++t) {
    std::vector<std::int64_t> row(recall.size(), 0);
    row[t] = std::llround(recall[t] * double(per_class));
    const double weight = std::accumulate(alike[t].begin(), alike[t].end(), 0.0) - alike[t][t];
    std::int64_t left = per_class - row[t];
    for (std::size_t p = 0; p < recall.size(); ++p)
      if (p != t) left -= row[p] = std::llround(double(per_class - row[t]) * alike[t][p] / weight);
    row[(t + 1) % row.size()] += left;  // rounding remainder: rows sum to per_class
    m.counts.push_back(row);
  }
  return m;
}

inline double accuracy_of(const confusion_matrix& m) {
  std::int64_t right = 0, all = 0;
  for (std::size_t t = 0; t < m.counts.size(); ++t) {
    right += m.counts[t][t];
    all += std::accumulate(m.counts[t].begin(), m.counts[t].end(), std::int64_t{0});
  }
  return double(right) / double(all);
}

inline run_summary sample_run(bool transfer) {
  // Sandal, Sneaker and Ankle boot look alike; Shirt and Bag less so.
  const std::vector<std::vector<double>> alike = {
      {0, 1, 6, 1, 4}, {1, 0, 1, 3, 1}, {6, 1, 0, 1, 5}, {1, 3, 1, 0, 1}, {4, 1, 5, 1, 0}};
  const auto recall = transfer ? std::vector<double>{0.94, 0.90, 0.93, 0.97, 0.95}
                               : std::vector<double>{0.88, 0.83, 0.86, 0.95, 0.91};
  const double j = 0.012;
  run_summary run;
  run.experiment = "fashion-target";
  run.run_id = transfer ? "fashion-target_7" : "fashion-target_8";
  run.description = transfer ? "ResNet-18 fine-tuned from fashion-base:2 on 5 target classes"
                             : "ResNet-18 trained from scratch on 5 target classes";
  const double t = transfer ? 1 : 0;
  run.loss = {curve("train_loss", 1.05 - 0.45 * t, 0.12 + 0.02 * t, 0.35 + 0.15 * t, j, 0.3),
              curve("val_loss", 1.10 - 0.45 * t, 0.26 - 0.06 * t, 0.30 + 0.15 * t, j, 1.1)};
  run.accuracy = {curve("train_accuracy", 0.58 + 0.25 * t, 0.97, 0.30 + 0.2 * t, j / 2, 0.7),
                  curve("val_accuracy", 0.55 + 0.27 * t, 0.89 + 0.04 * t, 0.28 + 0.2 * t, j, 2.0)};
  run.test_confusion =
      confusion({"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}, recall, alike, 200);
  run.final_metrics = {{"test_accuracy", accuracy_of(run.test_confusion)},
                       {"test_loss", run.loss[1].points.back().y * 1.04},
                       {"val_accuracy", run.accuracy[1].points.back().y},
                       {"epochs", double(sample_epochs)},
                       {"train_seconds", transfer ? 412.6 : 418.3}};
  for (int node = 0; node < 2; ++node)
    for (int local = 0; local < 2; ++local)
      run.ranks.push_back({node * 2 + local, "10.0.0." + std::to_string(4 + node), local,
                           "cuda:" + std::to_string(local),
                           1830.0 - 21.5 * node - 7.25 * local - (transfer ? 0 : 12)});
  run.lineage.registered =
      model_version{transfer ? "fashion-target-transfer" : "fashion-target-scratch", 1};
  if (transfer) {
    run.lineage.parent = model_version{"fashion-base", 2};
    run.lineage.parent_run_id = "fashion-base_3";
  }
  return run;
}

}  // namespace trellis::report::testing
