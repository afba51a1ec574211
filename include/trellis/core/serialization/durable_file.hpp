// Writing the files a run keeps (checkpoints, model, summary, metrics) so that a full disk or an
// I/O error is an exception naming the file and the cause (ENOSPC ...), never an abort or a
// half-written file: replacing_file writes beside the file and renames it into place on
// commit(), or removes what it wrote; appending_file adds whole lines to a log.
#pragma once
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace trellis::core {

/// A file that could not be written: the message names it and the cause.
struct file_error : std::runtime_error {
  file_error(const std::filesystem::path& file, const std::string& doing, int error)
      : std::runtime_error("[trellis] cannot " + doing + " " + file.string() + ": " +
                           cause(error)),
        code{error} {}
  int code;  ///< the errno

  /// "No space left on device (ENOSPC)".
  static std::string cause(int error) {
    const char* name = error == ENOSPC   ? "ENOSPC"
                       : error == EDQUOT ? "EDQUOT"
                       : error == EIO    ? "EIO"
                       : error == EROFS  ? "EROFS"
                       : error == EACCES ? "EACCES"
                       : error == EFBIG  ? "EFBIG"
                       : error == ENOENT ? "ENOENT"
                                         : nullptr;
    return std::string{std::strerror(error)} + (name ? std::string{" ("} + name + ")" : "");
  }
};

namespace detail {
inline void write_all(int fd, const void* data, std::size_t size, const std::filesystem::path& file,
                      const char* doing) {
  const auto* at = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, at, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw file_error(file, doing, n < 0 ? errno : EIO);
    at += n;
    size -= static_cast<std::size_t>(n);
  }
}

/// Makes a rename in `folder` last through a crash of the machine.
inline void sync_folder(const std::filesystem::path& folder) {
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}
}  // namespace detail

/// A file replaced whole: written to `<file>.partial`, synced and renamed over `file` by commit().
/// Until then `file` keeps its previous content; a replacing_file destroyed without commit()
/// (an error, an exception) removes its .partial. The destructor never throws.
class replacing_file {
 public:
  explicit replacing_file(std::filesystem::path file) : file_{std::move(file)} {
    temporary_ = file_;
    temporary_ += ".partial";
    std::error_code ec;
    std::filesystem::create_directories(file_.parent_path(), ec);
    fd_ = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) throw file_error(file_, "write", errno);
  }
  ~replacing_file() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(temporary_.c_str());
  }
  replacing_file(const replacing_file&) = delete;
  replacing_file& operator=(const replacing_file&) = delete;

  void write(const void* data, std::size_t size) {
    detail::write_all(fd_, data, size, file_, "write");
  }
  void write(std::string_view text) { write(text.data(), text.size()); }

  /// The file is complete: it replaces the previous one at once (a crash leaves one or the other).
  void commit() {
    if (::fsync(fd_) != 0) throw file_error(file_, "write", errno);
    const int closed = ::close(fd_);
    fd_ = -1;
    if (closed != 0) throw file_error(file_, "write", errno);
    if (::rename(temporary_.c_str(), file_.c_str()) != 0) throw file_error(file_, "replace", errno);
    committed_ = true;
    detail::sync_folder(file_.parent_path());
  }

  [[nodiscard]] const std::filesystem::path& path() const { return file_; }

 private:
  std::filesystem::path file_, temporary_;
  int fd_ = -1;
  bool committed_ = false;
};

/// Writes `text` as the whole of `file` (replacing_file, committed).
inline void replace_file(const std::filesystem::path& file, std::string_view text) {
  replacing_file out{file};
  out.write(text);
  out.commit();
}

/// A log that grows by whole lines: each append() is one write(2) of the line, so a failure
/// leaves at most part of that line, and says why.
class appending_file {
 public:
  explicit appending_file(std::filesystem::path file) : file_{std::move(file)} {
    fd_ = ::open(file_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) throw file_error(file_, "append to", errno);
  }
  ~appending_file() {
    if (fd_ >= 0) ::close(fd_);
  }
  appending_file(const appending_file&) = delete;
  appending_file& operator=(const appending_file&) = delete;

  void append(std::string_view line) {
    detail::write_all(fd_, line.data(), line.size(), file_, "append to");
  }

 private:
  std::filesystem::path file_;
  int fd_ = -1;
};

}  // namespace trellis::core
