// What the plan needs to know about this machine: how many CUDA GPUs it exposes and whether a
// folder can be written (posix/address.hpp: the rendezvous address and port). Plain POSIX; no
// CUDA runtime needed.
#pragma once
#include <unistd.h>

#include <cstddef>
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
