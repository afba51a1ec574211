// record_writer: a TFRecord file, the framing of TensorBoard's event files. Each record is the
// data's length (uint64), the masked CRC-32C of those 8 bytes, the data, and the masked CRC-32C
// of the data; integers little-endian. A record goes to the file in one write(2) when written.
#pragma once
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

#include "trellis/core/serialization/durable_file.hpp"

#include "trellis/core/tensorboard/crc32c.hpp"

namespace trellis::core::tensorboard {

namespace detail {

inline void append_little_endian(std::string& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFFu));
}

}  // namespace detail

/// Appends one framed record holding `data` to `out`.
inline void append_record(std::string& out, std::string_view data) {
  const auto length_at = out.size();
  detail::append_little_endian(out, data.size(), 8);
  const auto length_crc = masked_crc32c(std::string_view(out).substr(length_at, 8));
  detail::append_little_endian(out, length_crc, 4);
  out.append(data);
  detail::append_little_endian(out, masked_crc32c(data), 4);
}

/// Owns a new record file. A record write() returned from is in the operating system's hands, so
/// a crash of this process loses at most the record it was writing; sync() makes the file
/// survive a crash of the machine too.
class record_writer {
 public:
  /// Creates `file`; throws file_error (durable_file.hpp) if it exists or cannot be created, and
  /// on a failed write, as the run's other files do (a full disk says ENOSPC).
  explicit record_writer(std::filesystem::path file) : file_(std::move(file)) {
    fd_ = ::open(file_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) fail("create");
  }
  record_writer(record_writer&& other) noexcept
      : file_(std::move(other.file_)), fd_(std::exchange(other.fd_, -1)) {}
  record_writer& operator=(record_writer&& other) noexcept {
    if (this != &other) {
      close_now();
      file_ = std::move(other.file_);
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  record_writer(const record_writer&) = delete;
  record_writer& operator=(const record_writer&) = delete;
  ~record_writer() { close_now(); }

  void write(std::string_view data) {
    buffer_.clear();
    append_record(buffer_, data);
    write_all(buffer_);
  }

  void sync() {
    if (::fdatasync(fd_) != 0) fail("sync");
  }

  [[nodiscard]] const std::filesystem::path& file() const { return file_; }

 private:
  void write_all(std::string_view bytes) {
    while (!bytes.empty()) {
      const auto written = ::write(fd_, bytes.data(), bytes.size());
      if (written < 0 && errno == EINTR) continue;
      if (written < 0) fail("write");
      bytes.remove_prefix(static_cast<std::size_t>(written));
    }
  }
  [[noreturn]] void fail(std::string_view what) const {
    throw file_error(file_, std::string{what}, errno);
  }
  void close_now() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  std::filesystem::path file_;
  int fd_ = -1;
  std::string buffer_;  ///< reused: one allocation for the life of the writer
};

}  // namespace trellis::core::tensorboard
