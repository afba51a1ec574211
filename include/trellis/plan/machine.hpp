// What the plan needs to know about this machine: how many CUDA GPUs it exposes, whether a
// TCP port is free, and whether a folder can be written. Plain POSIX; no CUDA runtime needed.
#pragma once
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace trellis::plan {

/// NVIDIA device nodes present (/dev/nvidia0, ...), limited by CUDA_VISIBLE_DEVICES.
inline std::size_t local_gpu_count() {
  std::size_t devices = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/dev", ec)) {
    const auto name = entry.path().filename().string();
    if (name.size() > 6 && name.rfind("nvidia", 0) == 0 &&
        name.find_first_not_of("0123456789", 6) == std::string::npos)
      ++devices;
  }
  if (const char* visible = std::getenv("CUDA_VISIBLE_DEVICES")) {
    std::string list = visible;
    if (list.empty() || list == "-1") return 0;
    std::size_t listed = 1;
    for (char c : list) listed += c == ',';
    return listed < devices ? listed : devices;
  }
  return devices;
}

/// True when nothing listens on addr:port (a bind succeeds).
inline bool port_is_free(const std::string& addr, std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  if (::inet_pton(AF_INET, addr.c_str(), &sa.sin_addr) != 1) sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  ::close(fd);
  return free;
}

/// True when `dir` exists as a writable folder or could be created (nothing is created).
inline bool can_write_folder(const std::filesystem::path& dir) {
  std::error_code ec;
  auto probe = std::filesystem::absolute(dir, ec);
  while (!probe.empty() && !std::filesystem::exists(probe, ec)) {
    if (probe == probe.parent_path()) break;
    probe = probe.parent_path();
  }
  return std::filesystem::is_directory(probe, ec) && ::access(probe.c_str(), W_OK) == 0;
}

}  // namespace trellis::plan
