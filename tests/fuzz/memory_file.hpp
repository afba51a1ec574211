// memory_file: a file in memory (memfd) that a fuzz target rewrites for every input, for the
// parsers that take a path (read_idx, read_state_dict) rather than bytes.
#pragma once
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace trellis::fuzz {

class memory_file {
 public:
  memory_file() : fd_{::memfd_create("trellis-fuzz-input", 0)} {
    if (fd_ < 0) fail("memfd_create");
  }
  memory_file(const memory_file&) = delete;
  memory_file& operator=(const memory_file&) = delete;
  ~memory_file() { ::close(fd_); }

  /// Replaces the content with `size` bytes; the path opens it afresh, at offset 0.
  std::filesystem::path write(const void* data, std::size_t size) {
    if (::ftruncate(fd_, 0) != 0) fail("ftruncate");
    for (std::size_t done = 0; done < size;) {
      const ssize_t n = ::pwrite(fd_, static_cast<const char*>(data) + done, size - done,
                                 static_cast<off_t>(done));
      if (n <= 0) fail("pwrite");
      done += static_cast<std::size_t>(n);
    }
    return "/proc/self/fd/" + std::to_string(fd_);
  }

 private:
  [[noreturn]] static void fail(const char* what) {
    std::perror(what);
    std::abort();
  }
  int fd_;
};

}  // namespace trellis::fuzz
