// metric_record: one measured value of a run, and its line in metrics.jsonl:
// {"epoch":E,"step":S,"name":"N","value":V,"rank":R,"time":T}, V null when not finite (JSON has
// no NaN). The trainer writes these lines; the workspace, tools and tests read them back.
#pragma once
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace trellis::core {

struct metric_record {
  std::string name;
  std::int64_t step = 0;   ///< optimizer steps completed when it was measured
  std::int64_t epoch = 0;  ///< from 1
  std::int64_t rank = 0;   ///< the rank that measured it: 0 for the job's own values
  double value = 0;        ///< NaN when it was not finite
  double time = 0;         ///< seconds since the epoch
};

/// Receives each value rank 0 logs, besides the run's own files.
using metric_sink = std::function<void(const metric_record&)>;

/// The value's series outside trellis's own files, where a series has no rank (a TensorBoard
/// tag, an MLflow key): its name, and for a value measured on each rank <name>/rank_<r>, so the
/// ranks' series stay apart.
inline std::string series_key(const metric_record& m) {
  if (m.name == "rank_images_per_s") return "images_per_s/rank_" + std::to_string(m.rank);
  return m.name;
}

inline std::string to_json_line(const metric_record& m) {
  nlohmann::json j{{"epoch", m.epoch}, {"step", m.step}, {"name", m.name}};
  j["value"] = std::isfinite(m.value) ? nlohmann::json(m.value) : nlohmann::json(nullptr);
  j["rank"] = m.rank;
  j["time"] = m.time;
  return j.dump();
}

/// The record of a metrics.jsonl line, or nullopt when the line is not one.
inline std::optional<metric_record> parse_metric_line(std::string_view line) {
  const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  const auto name = j.find("name"), step = j.find("step"), epoch = j.find("epoch"),
             value = j.find("value");
  if (name == j.end() || !name->is_string() || step == j.end() || !step->is_number_integer() ||
      epoch == j.end() || !epoch->is_number_integer() || value == j.end() ||
      !(value->is_number() || value->is_null()))
    return std::nullopt;
  metric_record m;
  m.name = name->get<std::string>();
  m.step = step->get<std::int64_t>();
  m.epoch = epoch->get<std::int64_t>();
  m.value = value->is_number() ? value->get<double>() : std::nan("");
  const auto rank = j.find("rank"), time = j.find("time");
  if (rank != j.end() && rank->is_number_integer()) m.rank = rank->get<std::int64_t>();
  if (time != j.end() && time->is_number()) m.time = time->get<double>();
  return m;
}

/// Every value of `name` rank 0 wrote, in file order (NaN where it was not finite).
inline std::vector<double> logged_values(const std::filesystem::path& file,
                                         const std::string& name) {
  std::ifstream in{file};
  std::vector<double> values;
  for (std::string line; std::getline(in, line);)
    if (const auto m = parse_metric_line(line); m && m->name == name && m->rank == 0)
      values.push_back(m->value);
  return values;
}

/// The highest finite value of `name` rank 0 wrote, if any.
inline std::optional<double> best_logged_value(const std::filesystem::path& file,
                                               const std::string& name) {
  std::optional<double> best;
  for (double v : logged_values(file, name))
    if (std::isfinite(v) && (!best || v > *best)) best = v;
  return best;
}

}  // namespace trellis::core
