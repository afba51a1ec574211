// run_monitor: while a run goes on, the driver indexes the run folder's metrics.jsonl (rank 0's,
// or an Azure job's once it is downloaded) into the workspace database every second and beats the
// run's heartbeat, from a thread with its own connection. stop() indexes what is left and reports
// a failure to index as an exception.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <filesystem>
#include <mutex>
#include <utility>
#include <string>
#include <thread>

#include "trellis/workspace/metrics_follower.hpp"
#include "trellis/workspace/runs.hpp"
#include "trellis/workspace/sqlite.hpp"

namespace trellis::backends {

class run_monitor {
 public:
  run_monitor(const std::filesystem::path& db_file, const workspace::run_record& run)
      : db_file_{db_file}, run_id_{run.id}, metrics_{run.folder / "metrics.jsonl", run.id} {
    thread_ = std::thread([this] { loop(); });
  }
  ~run_monitor() {
    try {
      stop();
    } catch (...) {  // stop() was not called and indexing failed: the run already ended badly
    }
  }
  run_monitor(const run_monitor&) = delete;
  run_monitor& operator=(const run_monitor&) = delete;

  /// Ends the thread after a last pass; rethrows the first error it met.
  void stop() {
    {
      const std::lock_guard lock{mutex_};
      if (stopped_) return;
      stopped_ = true;
    }
    wake_.notify_all();
    thread_.join();
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  }

 private:
  void loop() {
    try {
      workspace::database db{db_file_};
      auto last_beat = std::chrono::steady_clock::now();
      for (bool last_pass = false;; ) {
        metrics_.sync(db);
        if (std::chrono::steady_clock::now() - last_beat >= workspace::heartbeat_interval) {
          workspace::heartbeat(db, run_id_);
          last_beat = std::chrono::steady_clock::now();
        }
        if (last_pass) return;
        std::unique_lock lock{mutex_};
        wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stopped_; });
        last_pass = stopped_;
      }
    } catch (...) {
      error_ = std::current_exception();
    }
  }

  std::filesystem::path db_file_;
  std::string run_id_;
  workspace::metrics_follower metrics_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopped_ = false;
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace trellis::backends
