// metrics_log: the run's metrics.jsonl (core/train/metric_record.hpp), appended line by line so
// a crash loses at most the line being written, and a full disk is an error naming the file;
// and reading a series back.
#pragma once
#include <chrono>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "trellis/core/serialization/durable_file.hpp"
#include "trellis/core/train/metric_record.hpp"

namespace trellis::core {

class metrics_log {
 public:
  /// A fresh run starts an empty file; a resumed run keeps the lines of the epochs its
  /// checkpoint holds and drops later ones, which the resumed run writes again. Either way the
  /// file is a new one, written aside and renamed into place, so a reader that follows it (the
  /// driver indexing it) sees it replaced rather than rewritten under its feet.
  metrics_log(std::filesystem::path file, std::size_t resumed_epochs) : file_{std::move(file)} {
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

  /// Appends one value measured now; `rank` for values that are per rank by nature.
  void write(std::size_t epoch, std::size_t step, const std::string& name, double value,
             std::size_t rank = 0) {
    const double now =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    out_->append(to_json_line({name, static_cast<std::int64_t>(step), static_cast<std::int64_t>(epoch),
                               static_cast<std::int64_t>(rank), value, now}) +
                 '\n');
  }

  [[nodiscard]] const std::filesystem::path& file() const { return file_; }

 private:
  std::filesystem::path file_;
  std::optional<appending_file> out_;
};

/// Every value of `name` rank 0 wrote, in file order (NaN where it was not finite).
inline std::vector<double> logged_values(const std::filesystem::path& file, const std::string& name) {
  std::ifstream in{file};
  std::vector<double> values;
  for (std::string line; std::getline(in, line);)
    if (const auto m = parse_metric_line(line); m && m->name == name && m->rank == 0)
      values.push_back(m->value);
  return values;
}

/// The highest finite value of `name` rank 0 wrote, if any.
inline std::optional<double> best_logged_value(const std::filesystem::path& file, const std::string& name) {
  std::optional<double> best;
  for (double v : logged_values(file, name))
    if (std::isfinite(v) && (!best || v > *best)) best = v;
  return best;
}

}  // namespace trellis::core
