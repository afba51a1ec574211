// metrics_log: what rank 0 logs, written as the run's metrics.jsonl (core/train/metric_record.hpp)
// and as TensorBoard event files in the run folder, each value in the files before write()
// returns, so a crash loses at most the one being written, and a full disk is an error naming
// the file.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "trellis/core/serialization/durable_file.hpp"
#include "trellis/core/tensorboard/event_writer.hpp"
#include "trellis/core/train/metric_record.hpp"

namespace trellis::core {

class metrics_log {
 public:
  /// A fresh run starts an empty file; a resumed run keeps the lines of the epochs its
  /// checkpoint holds and drops later ones, which the resumed run writes again. Either way the
  /// file is a new one, written aside and renamed into place, so a reader that follows it (the
  /// driver indexing it) sees it replaced rather than rewritten under its feet.
  /// `forward` is also given every value (an Azure ML job's MLflow, say). A resumed run passes
  /// the step it resumes at, so TensorBoard drops what earlier files logged from there on.
  metrics_log(const std::filesystem::path& run_dir, std::size_t resumed_epochs,
              std::size_t resumed_step, metric_sink forward = {})
      : file_{run_dir / "metrics.jsonl"},
        events_{run_dir, resumed_epochs > 0
                             ? std::optional{static_cast<std::int64_t>(resumed_step)}
                             : std::nullopt},
        forward_{std::move(forward)} {
    std::filesystem::create_directories(file_.parent_path());
    std::vector<std::string> kept;
    if (resumed_epochs > 0) {
      std::ifstream in{file_};
      for (std::string line; std::getline(in, line);) {
        const auto m = parse_metric_line(line);
        if (m && m->epoch >= 0 && static_cast<std::size_t>(m->epoch) <= resumed_epochs)
          kept.push_back(line);
      }
    }
    std::string text;
    for (const auto& line : kept) text += line + '\n';
    replace_file(file_, text);
    out_.emplace(file_);
  }

  /// Appends one value measured now; `rank` for values that are per rank by nature (TensorBoard
  /// shows them as <name>/rank_<r>).
  void write(std::size_t epoch, std::size_t step, const std::string& name, double value,
             std::size_t rank = 0) {
    const metric_record m{name, static_cast<std::int64_t>(step), static_cast<std::int64_t>(epoch),
                          static_cast<std::int64_t>(rank), value, tensorboard::unix_time_now()};
    out_->append(to_json_line(m) + '\n');
    events_.scalar(series_key(m), m.step, value, m.time);
    if (forward_) forward_(m);
  }

  /// The end of an epoch: the event file is made to survive a crash of the machine too.
  void end_epoch() { events_.sync(); }

  [[nodiscard]] const std::filesystem::path& file() const { return file_; }

 private:
  std::filesystem::path file_;
  std::optional<appending_file> out_;
  tensorboard::event_writer events_;
  metric_sink forward_;
};

}  // namespace trellis::core
