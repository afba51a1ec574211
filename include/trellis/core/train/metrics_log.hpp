// metrics_log: the run's metrics.jsonl, one {"epoch":..,"step":..,"name":..,"value":..} object
// per line, appended and flushed line by line so a crash loses at most the line being written.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trellis::core {

class metrics_log {
 public:
  /// A fresh run starts an empty file; a resumed run keeps the lines of the epochs its
  /// checkpoint holds and drops later ones, which the resumed run writes again.
  metrics_log(std::filesystem::path file, std::size_t resumed_epochs) : file_{std::move(file)} {
    std::filesystem::create_directories(file_.parent_path());
    std::vector<std::string> kept;
    if (resumed_epochs > 0) {
      std::ifstream in{file_};
      for (std::string line; std::getline(in, line);)
        if (epoch_of(line) <= resumed_epochs) kept.push_back(line);
    }
    out_.open(file_, std::ios::trunc);
    if (!out_) throw std::runtime_error("[trellis] train: cannot write " + file_.string());
    for (const auto& line : kept) out_ << line << '\n';
    out_.flush();
  }

  /// Non-finite values become null: JSON has no NaN.
  void write(std::size_t epoch, std::size_t step, const std::string& name, double value) {
    char number[40] = "null";
    if (std::isfinite(value)) std::snprintf(number, sizeof number, "%.9g", value);
    out_ << "{\"epoch\":" << epoch << ",\"step\":" << step << ",\"name\":\"" << name
         << "\",\"value\":" << number << "}\n";
    out_.flush();
    if (!out_) throw std::runtime_error("[trellis] train: writing " + file_.string() + " failed");
  }

  [[nodiscard]] const std::filesystem::path& file() const { return file_; }

 private:
  /// The "epoch" of a line this class wrote; an unreadable line counts as past any epoch.
  static std::size_t epoch_of(const std::string& line) {
    constexpr std::string_view prefix = "{\"epoch\":";
    if (!line.starts_with(prefix)) return static_cast<std::size_t>(-1);
    try {
      return std::stoull(line.substr(prefix.size()));
    } catch (const std::exception&) {
      return static_cast<std::size_t>(-1);
    }
  }

  std::filesystem::path file_;
  std::ofstream out_;
};

/// Every value metrics_log wrote for `name`, in file order; null (non-finite) reads as NaN.
inline std::vector<double> logged_values(const std::filesystem::path& file, const std::string& name) {
  std::ifstream in{file};
  std::vector<double> values;
  const std::string key = "\"name\":\"" + name + "\",\"value\":";
  for (std::string line; std::getline(in, line);) {
    const auto at = line.find(key);
    if (at == std::string::npos) continue;
    const char* number = line.c_str() + at + key.size();
    char* end = nullptr;
    const double value = std::strtod(number, &end);
    values.push_back(end == number ? std::nan("") : value);
  }
  return values;
}

/// The highest finite value metrics_log wrote for `name`, if any.
inline std::optional<double> best_logged_value(const std::filesystem::path& file, const std::string& name) {
  std::optional<double> best;
  for (double v : logged_values(file, name))
    if (std::isfinite(v) && (!best || v > *best)) best = v;
  return best;
}

}  // namespace trellis::core
