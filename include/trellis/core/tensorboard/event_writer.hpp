// event_writer: a TensorBoard event file in a run folder,
// events.out.tfevents.<unix time>.<host>.<pid>.<n>, whose first record says "brain.Event:2" and
// whose other records are scalar Events (one Summary value each), framed by record_writer.
#pragma once
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "trellis/core/tensorboard/event.pb.h"
#include "trellis/core/tensorboard/record_writer.hpp"

namespace trellis::core::tensorboard {

/// Seconds since the Unix epoch, as TensorBoard's wall_time.
inline double unix_time_now() {
  using seconds = std::chrono::duration<double>;
  return std::chrono::duration_cast<seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// The name TensorBoard's writers give an event file; `n` tells apart the files one process
/// opens in the same second.
inline std::string event_file_name(double wall_time, std::uint64_t n) {
  char host[256] = "localhost";
  ::gethostname(host, sizeof host - 1);
  return fmt::format("events.out.tfevents.{:010d}.{}.{}.{}", static_cast<std::int64_t>(wall_time),
                     host, ::getpid(), n);
}

/// Makes `event` the Event of one scalar. TensorBoard stores float32: the value is rounded to the
/// nearest float; NaN and infinities are kept as they are (TensorBoard shows them).
inline void scalar_event(proto::Event& event, std::string_view tag, std::int64_t step, double value,
                         double wall_time) {
  event.Clear();
  event.set_wall_time(wall_time);
  event.set_step(step);
  auto* entry = event.mutable_summary()->add_value();
  entry->set_tag(std::string(tag));
  entry->set_simple_value(static_cast<float>(value));
}

class event_writer {
 public:
  /// Creates a new event file in `run_dir`. A run resumed from a checkpoint passes the step it
  /// resumes at: TensorBoard then drops what the run's earlier files logged from that step on,
  /// which this run logs again.
  explicit event_writer(const std::filesystem::path& run_dir,
                        std::optional<std::int64_t> resumed_at_step = std::nullopt)
      : records_(open_in(run_dir)) {
    proto::Event version;
    version.set_wall_time(unix_time_now());
    version.set_file_version("brain.Event:2");
    write(version);
    if (resumed_at_step) {
      proto::Event start;
      start.set_wall_time(unix_time_now());
      start.set_step(*resumed_at_step);
      start.mutable_session_log()->set_status(proto::SessionLog::START);
      write(start);
    }
  }

  /// Appends one scalar (see scalar_event). In the file, and safe from a crash of this process,
  /// when this returns.
  void scalar(std::string_view tag, std::int64_t step, double value,
              double wall_time = unix_time_now()) {
    scalar_event(event_, tag, step, value, wall_time);
    write(event_);
  }

  /// Makes what was written survive a crash of the machine too: fdatasync, 0.15-5 ms on an ext4
  /// virtual disk (the more, the busier) against 1-4 us for a scalar (tensorboard.flush_cost), so
  /// once per epoch, not per scalar.
  void sync() { records_.sync(); }

  [[nodiscard]] const std::filesystem::path& file() const { return records_.file(); }

 private:
  static record_writer open_in(const std::filesystem::path& run_dir) {
    static std::atomic<std::uint64_t> opened{0};
    std::filesystem::create_directories(run_dir);
    return record_writer(run_dir / event_file_name(unix_time_now(), opened++));
  }
  void write(const proto::Event& event) {
    event.SerializeToString(&bytes_);
    records_.write(bytes_);
  }

  record_writer records_;
  proto::Event event_;  ///< reused between scalars, as is bytes_
  std::string bytes_;
};

}  // namespace trellis::core::tensorboard
