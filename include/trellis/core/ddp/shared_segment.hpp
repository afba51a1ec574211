// shared_segment: a POSIX shared-memory segment that the ranks of one host map together, and
// futex signalling across processes (never FUTEX_PRIVATE) for ranks that wait on each other
// through it; posix/process_info.hpp tells whether a peer still runs.
#pragma once
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <memory>
#include <stdexcept>
#include <string>

#include "trellis/posix/process_info.hpp"

namespace trellis::core::ddp {

/// A mapping of a named segment; unmapped when the last owner (tensor deleters included) is gone.
class shared_segment {
 public:
  /// Creates the segment with all of its pages reserved, so that a full /dev/shm fails here
  /// (ENOSPC) instead of with SIGBUS at the first write into a sparse page.
  static std::shared_ptr<shared_segment> create(const std::string& name, std::size_t bytes) {
    const int fd = ::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
    if (fd < 0) throw std::runtime_error("shm_open(" + name + ") failed: " + std::strerror(errno));
    if (const int err = ::posix_fallocate(fd, 0, static_cast<off_t>(bytes)); err != 0) {
      ::close(fd);
      ::shm_unlink(name.c_str());
      throw std::runtime_error("cannot reserve " + std::to_string(bytes >> 20) +
                               " MiB in /dev/shm for " + name + ": " + std::strerror(err));
    }
    return map(fd, name, bytes);
  }

  /// Opens a segment another process created, checking it has the expected size.
  static std::shared_ptr<shared_segment> open(const std::string& name, std::size_t bytes) {
    const int fd = ::shm_open(name.c_str(), O_RDWR, 0600);
    if (fd < 0) throw std::runtime_error("shm_open(" + name + ") failed: " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || static_cast<std::size_t>(st.st_size) != bytes) {
      ::close(fd);
      throw std::runtime_error(name + " is not the expected " + std::to_string(bytes) + " bytes");
    }
    return map(fd, name, bytes);
  }

  /// Removes the name; the mappings stay valid. Done once every rank has mapped it, so a crash
  /// later leaves nothing behind in /dev/shm.
  static void unlink(const std::string& name) { ::shm_unlink(name.c_str()); }

  ~shared_segment() { ::munmap(base_, bytes_); }
  shared_segment(const shared_segment&) = delete;
  shared_segment& operator=(const shared_segment&) = delete;

  char* data() const { return static_cast<char*>(base_); }
  std::size_t size() const { return bytes_; }

 private:
  shared_segment(void* base, std::size_t bytes) : base_(base), bytes_(bytes) {}

  static std::shared_ptr<shared_segment> map(int fd, const std::string& name, std::size_t bytes) {
    void* base = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    const int err = errno;
    ::close(fd);
    if (base == MAP_FAILED)
      throw std::runtime_error("mmap of " + name + " failed: " + std::strerror(err));
    return std::shared_ptr<shared_segment>(new shared_segment(base, bytes));
  }

  void* base_;
  std::size_t bytes_;
};

/// A 32-bit counter in shared memory that processes wait on with futexes.
using shared_counter = std::atomic<std::uint32_t>;
static_assert(sizeof(shared_counter) == sizeof(std::uint32_t) &&
              shared_counter::is_always_lock_free);

inline void wake_all(shared_counter& word) {
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE, INT_MAX, nullptr,
            nullptr, 0);
}

/// Sleeps while `word` still holds `seen`, at most `slice`; returns early on a wake or a change.
inline void wait_while(shared_counter& word, std::uint32_t seen, std::chrono::milliseconds slice) {
  const timespec ts{static_cast<std::time_t>(slice.count() / 1000),
                    static_cast<long>(slice.count() % 1000) * 1000000};
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT, seen, &ts, nullptr, 0);
}

using posix::process_running;

}  // namespace trellis::core::ddp
