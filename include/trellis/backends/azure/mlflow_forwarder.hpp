// mlflow_forwarder: rank 0's metrics, as the trainer logs them, sent to the MLflow run of the
// Azure ML job it runs in, so that they show in Azure ML Studio while it trains. Values are
// queued, and a thread of its own sends them in log-batch requests (one a second at most), so a
// training step never waits for the network. A value measured on each rank has a key of its own
// (images_per_s/rank_1: core::series_key). A batch that cannot be sent is reported and dropped;
// the run's metrics.jsonl keeps every value.
#pragma once
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "trellis/backends/azure/mlflow_client.hpp"
#include "trellis/core/train/metric_record.hpp"

namespace trellis::backends::azure {

inline metric_point mlflow_point(const core::metric_record& m) {
  return {core::series_key(m), m.value, m.step, static_cast<std::int64_t>(m.time * 1000.0)};
}

class mlflow_forwarder {
 public:
  explicit mlflow_forwarder(mlflow_client client,
                            std::chrono::milliseconds interval = std::chrono::seconds{1})
      : client_{std::move(client)}, interval_{interval} {
    thread_ = std::thread([this] { loop(); });
  }
  ~mlflow_forwarder() { close(); }
  mlflow_forwarder(const mlflow_forwarder&) = delete;
  mlflow_forwarder& operator=(const mlflow_forwarder&) = delete;

  /// In an Azure ML job (its MLflow variables set), a forwarder to the job's run; else null.
  static std::shared_ptr<mlflow_forwarder> from_environment() {
    auto client = mlflow_client::from_environment();
    if (!client) return nullptr;
    return std::make_shared<mlflow_forwarder>(std::move(*client));
  }

  /// The trainer's sink (train_config::forward_metrics); it keeps the forwarder alive.
  static core::metric_sink sink(std::shared_ptr<mlflow_forwarder> f) {
    return [f = std::move(f)](const core::metric_record& m) { f->add(m); };
  }

  void add(const core::metric_record& m) {
    const std::lock_guard lock{mutex_};
    queued_.push_back(mlflow_point(m));
  }

  /// Sends what is queued and ends the thread (later values are not sent).
  void close() {
    {
      const std::lock_guard lock{mutex_};
      if (closed_) return;
      closed_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

  [[nodiscard]] const std::string& run_id() const { return client_.run_id(); }
  /// Values the MLflow run accepted (the client leaves out values that are not finite).
  [[nodiscard]] std::size_t sent() const {
    const std::lock_guard lock{mutex_};
    return sent_;
  }
  [[nodiscard]] std::size_t dropped() const {
    const std::lock_guard lock{mutex_};
    return dropped_;
  }

 private:
  void loop() {
    for (bool last = false; !last;) {
      std::vector<metric_point> batch;
      {
        std::unique_lock lock{mutex_};
        wake_.wait_for(lock, interval_, [this] { return closed_; });
        last = closed_;
        batch.swap(queued_);
      }
      if (batch.empty()) continue;
      try {
        client_.log_batch(batch);
        const std::lock_guard lock{mutex_};
        for (const auto& m : batch) sent_ += std::isfinite(m.value) ? 1 : 0;
      } catch (const std::exception& e) {
        std::size_t dropped = 0;
        {
          const std::lock_guard lock{mutex_};
          dropped = dropped_ += batch.size();
        }
        std::cerr << fmt::format(
            "[trellis] rank 0: {} metric value(s) not sent to MLflow ({} so far): {}; "
            "metrics.jsonl keeps them\n",
            batch.size(), dropped, e.what());
      }
    }
  }

  mlflow_client client_;
  std::chrono::milliseconds interval_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<metric_point> queued_;
  bool closed_ = false;
  std::size_t sent_ = 0, dropped_ = 0;
  std::thread thread_;
};

}  // namespace trellis::backends::azure
