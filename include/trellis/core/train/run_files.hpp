// run_files: where a training run keeps its files inside its run folder (DESIGN.md section 6:
// runs/<id>/{outputs,checkpoints}, plus the metrics of every rank-0 report).
#pragma once
#include <filesystem>

namespace trellis::core {

struct run_files {
  explicit run_files(const std::filesystem::path& run_dir)
      : metrics{run_dir / "metrics.jsonl"},
        last{run_dir / "checkpoints" / "last.pt"},
        best{run_dir / "checkpoints" / "best.pt"},
        model{run_dir / "outputs" / "model.pt"} {}

  std::filesystem::path metrics;  ///< one JSON object per line
  std::filesystem::path last;     ///< the latest checkpoint; its presence makes a run resume
  std::filesystem::path best;     ///< the checkpoint of the best epoch under select_best
  std::filesystem::path model;    ///< the final state dict, for torch.load(weights_only=True)
};

}  // namespace trellis::core
