// mlflow_client: the part of the MLflow REST API an Azure ML job's workers log metrics with
// (runs/log-metric, runs/log-batch) and read them back with (runs/get, metrics/get-history).
// Azure ML sets MLFLOW_TRACKING_URI (azureml://<host>/mlflow/v1.0/..., reached over https),
// MLFLOW_RUN_ID (the job) and MLFLOW_TRACKING_TOKEN in every job; rank 0 sends the trainer's
// metrics through log_batch (mlflow_forwarder.hpp). The token is sent, never printed.
#pragma once
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "trellis/backends/azure/answer_fields.hpp"
#include "trellis/backends/azure/endpoints.hpp"
#include "trellis/backends/azure/http.hpp"

namespace trellis::backends::azure {

struct metric_point {
  std::string key;
  double value = 0;
  std::int64_t step = 0;
  std::int64_t timestamp_ms = 0;  ///< 0: now
};

/// The URL of an MLflow tracking URI: Azure ML writes azureml://<host>/<path>, served over https
/// (over plain http only when the host is a loopback address: an emulator).
inline std::string mlflow_base_url(const std::string& tracking_uri) {
  std::string url = tracking_uri;
  if (url.starts_with("azureml://")) {
    const bool loopback = is_loopback_host(parse_url("https://" + url.substr(10)).host);
    url = (loopback ? "http://" : "https://") + url.substr(10);
  }
  while (!url.empty() && url.back() == '/') url.pop_back();
  require_allowed(url, "MLFLOW_TRACKING_URI");
  return url;
}

class mlflow_client {
 public:
  /// At most this many metrics per log-batch request (MLflow's limit).
  static constexpr std::size_t batch_limit = 1000;

  mlflow_client(std::string tracking_uri, std::string run_id, std::function<std::string()> token,
                retry_policy policy = {})
      : base_{mlflow_base_url(tracking_uri)},
        run_id_{std::move(run_id)},
        token_{std::move(token)},
        http_{policy} {}

  /// The job's own run, from the variables Azure ML sets; nullopt outside an Azure ML job.
  static std::optional<mlflow_client> from_environment() {
    const char* uri = std::getenv("MLFLOW_TRACKING_URI");
    const char* run = std::getenv("MLFLOW_RUN_ID");
    if (!uri || !*uri || !run || !*run) return std::nullopt;
    const char* t = std::getenv("MLFLOW_TRACKING_TOKEN");
    return mlflow_client(uri, run, [token = std::string{t ? t : ""}] { return token; });
  }

  [[nodiscard]] const std::string& run_id() const { return run_id_; }

  void log_metric(const metric_point& m) {
    if (!std::isfinite(m.value)) return;  // JSON has no NaN, and MLflow would refuse it
    post("runs/log-metric", {{"run_id", run_id_},
                             {"key", m.key},
                             {"value", m.value},
                             {"timestamp", stamp(m)},
                             {"step", m.step}});
  }

  /// Sends `metrics` in requests of at most batch_limit each.
  void log_batch(const std::vector<metric_point>& metrics) {
    nlohmann::json batch = nlohmann::json::array();
    auto flush = [&] {
      if (batch.empty()) return;
      post("runs/log-batch", {{"run_id", run_id_},
                              {"metrics", batch},
                              {"params", nlohmann::json::array()},
                              {"tags", nlohmann::json::array()}});
      batch = nlohmann::json::array();
    };
    for (const auto& m : metrics) {
      if (!std::isfinite(m.value)) continue;
      batch.push_back(
          {{"key", m.key}, {"value", m.value}, {"timestamp", stamp(m)}, {"step", m.step}});
      if (batch.size() == batch_limit) flush();
    }
    flush();
  }

  /// The latest value of each metric the run logged (runs/get).
  std::vector<metric_point> latest_metrics() {
    const auto body = get(fmt::format("runs/get?run_id={}", run_id_));
    return points(part_of(part_of(part_of(body, "run"), "data"), "metrics", true));
  }

  /// Every value of one metric, in logging order (metrics/get-history, all pages).
  std::vector<metric_point> history(const std::string& key) {
    std::vector<metric_point> all;
    std::string page;
    do {
      auto body = get(fmt::format("metrics/get-history?run_id={}&metric_key={}{}", run_id_, key,
                                  page.empty() ? "" : "&page_token=" + page));
      for (auto& p : points(part_of(body, "metrics", true))) all.push_back(std::move(p));
      page = text_of(body, "next_page_token");
    } while (!page.empty());
    return all;
  }

 private:
  static std::int64_t stamp(const metric_point& m) {
    if (m.timestamp_ms) return m.timestamp_ms;
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  static std::vector<metric_point> points(const nlohmann::json& list) {
    std::vector<metric_point> out;
    for (const auto& m : list)
      out.push_back({text_of(m, "key"), number_of(m, "value", 0.0),
                     number_of(m, "step", std::int64_t{0}),
                     number_of(m, "timestamp", std::int64_t{0})});
    return out;
  }

  nlohmann::json send(const std::string& method, const std::string& path, const std::string& body) {
    http_request r{method,
                   fmt::format("{}/api/2.0/mlflow/{}", base_, path),
                   {"Authorization: Bearer " + token_(), "Accept: application/json"},
                   body};
    if (method == "POST") r.headers.emplace_back("Content-Type: application/json");
    const auto response = http_.send(r);
    if (response.status / 100 != 2) {
      const auto error = nlohmann::json::parse(response.body, nullptr, false);
      throw std::runtime_error(fmt::format(
          "MLflow {} {}: HTTP {}{}", method, redact(r.url), response.status,
          error.is_object() ? ": " + text_of(error, "error_code") + " " + text_of(error, "message")
                            : std::string{}));
    }
    return response.body.empty() ? nlohmann::json::object() : nlohmann::json::parse(response.body);
  }
  void post(const std::string& path, const nlohmann::json& body) {
    send("POST", path, body.dump());
  }
  nlohmann::json get(const std::string& path) { return send("GET", path, ""); }

  std::string base_, run_id_;
  std::function<std::string()> token_;
  http_client http_;
};

}  // namespace trellis::backends::azure
