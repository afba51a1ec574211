// small_disk: a tmpfs of a few KiB mounted over a folder for a test's life, which the test can
// fill up: a real ENOSPC for the code that writes there. Mounting needs root (CAP_SYS_ADMIN),
// which the CI container runs as; without it the test fails saying so.
#pragma once
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

namespace trellis::core::testing {

struct small_disk {
  std::filesystem::path dir;

  small_disk(std::filesystem::path where, int kib) : dir(std::move(where)) {
    std::filesystem::create_directories(dir);
    const std::string options = "size=" + std::to_string(kib) + "k";
    const bool mounted = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, options.c_str()) == 0;
    INFO("mounting a tmpfs on " << dir << " needs root (CAP_SYS_ADMIN): " << std::strerror(errno));
    REQUIRE(mounted);
  }
  ~small_disk() { ::umount2(dir.c_str(), MNT_DETACH); }
  small_disk(const small_disk&) = delete;
  small_disk& operator=(const small_disk&) = delete;

  /// Writes `file` until the disk is full.
  void fill(const std::filesystem::path& file) const {
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    const std::string block(64 * 1024, 'x');
    while (::write(fd, block.data(), block.size()) > 0) {
    }
    const int error = errno;
    ::close(fd);
    REQUIRE(error == ENOSPC);
  }
};

}  // namespace trellis::core::testing
