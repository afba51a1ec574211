// Streams a growing log file (rank 0's) to the terminal while the job runs, and reads the last
// lines of a log for error reports.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

namespace trellis::backends::local {

class log_stream {
 public:
  explicit log_stream(std::filesystem::path file)
      : file_(std::move(file)), thread_([this] { run(); }) {}
  ~log_stream() {
    stop_ = true;
    thread_.join();
  }
  log_stream(const log_stream&) = delete;
  log_stream& operator=(const log_stream&) = delete;

 private:
  void run() {
    std::ifstream in;
    std::streamoff offset = 0;
    for (bool last_pass = false;; last_pass = stop_) {
      if (!in.is_open()) in.open(file_, std::ios::binary);
      if (in.is_open()) {
        in.clear();
        in.seekg(offset);
        char buffer[4096];
        while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
          std::fwrite(buffer, 1, static_cast<std::size_t>(in.gcount()), stdout);
          offset += in.gcount();
        }
        std::fflush(stdout);
      }
      if (last_pass) return;  // one more read after stop, so nothing at the end is lost
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  std::filesystem::path file_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

/// The last `count` lines of a file (for "rank 3 failed" reports).
inline std::string last_lines(const std::filesystem::path& file, std::size_t count) {
  std::ifstream in(file);
  std::deque<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
    if (lines.size() > count) lines.pop_front();
  }
  std::string out;
  for (const auto& l : lines) out += "    " + l + "\n";
  return out;
}

}  // namespace trellis::backends::local
