// run_files: where a training run keeps its files inside its run folder (runs/<id>/: the metrics
// of every rank-0 report, checkpoints/, and outputs/ with the model and its summary).
#pragma once
#include <filesystem>

namespace trellis::core {

struct run_files {
  explicit run_files(const std::filesystem::path& run_dir)
      : metrics{run_dir / "metrics.jsonl"},
        last{run_dir / "checkpoints" / "last.pt"},
        best{run_dir / "checkpoints" / "best.pt"},
        model{run_dir / "outputs" / "model.pt"},
        summary{run_dir / "outputs" / "summary.json"} {}

  std::filesystem::path metrics;  ///< one JSON object per line
  std::filesystem::path last;     ///< the latest checkpoint; its presence makes a run resume
  std::filesystem::path best;     ///< the checkpoint of the best epoch under select_best
  std::filesystem::path model;    ///< the final state dict, for torch.load(weights_only=True)
  std::filesystem::path summary;  ///< which epoch model.pt holds, chosen how, and its metrics
};

}  // namespace trellis::core
