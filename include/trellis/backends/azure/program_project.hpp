// The program's CMake project, which the job rebuilds on the cluster: found from the build tree
// of this executable (the CMakeCache.txt above it names the source folder), with the target to
// build (the executable's name), the options that build used, and where trellis's job script
// lies inside the project (trellis must be part of the sources the job gets).
#pragma once
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>

namespace trellis::backends::azure {

struct program_project {
  std::filesystem::path source_dir, build_dir;
  std::string target;
  std::string cmake_args;  ///< the -D options of this build the job's build repeats
  std::string job_script;  ///< backends/azure/job.sh, relative to source_dir
};

/// This header's own trellis source tree: include/trellis/backends/azure/ is four folders down.
inline std::filesystem::path trellis_source_root() {
  return std::filesystem::weakly_canonical(std::filesystem::path{__FILE__})
      .parent_path()
      .parent_path()
      .parent_path()
      .parent_path()
      .parent_path();
}

/// KEY:TYPE=VALUE entries of a CMakeCache.txt.
inline std::map<std::string, std::string> read_cmake_cache(const std::filesystem::path& file) {
  std::map<std::string, std::string> cache;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#' || line[0] == '/') continue;
    const auto colon = line.find(':'), eq = line.find('=');
    if (colon == std::string::npos || eq == std::string::npos || colon > eq) continue;
    cache[line.substr(0, colon)] = line.substr(eq + 1);
  }
  return cache;
}

inline program_project find_program_project(const std::filesystem::path& executable) {
  namespace fs = std::filesystem;
  program_project p;
  p.target = executable.filename().string();
  for (fs::path dir = executable.parent_path();; dir = dir.parent_path()) {
    if (fs::is_regular_file(dir / "CMakeCache.txt")) {
      p.build_dir = dir;
      break;
    }
    if (dir == dir.parent_path())
      throw std::runtime_error(fmt::format(
          "the Azure backend rebuilds this program on the cluster from its CMake project, but no "
          "CMakeCache.txt lies above '{}': build the program with CMake",
          executable.string()));
  }
  const auto cache = read_cmake_cache(p.build_dir / "CMakeCache.txt");
  const auto home = cache.find("CMAKE_HOME_DIRECTORY");
  if (home == cache.end())
    throw std::runtime_error(
        fmt::format("{}/CMakeCache.txt names no source folder", p.build_dir.string()));
  p.source_dir = fs::weakly_canonical(home->second);
  // The options that decide whether the target exists, and how it is optimized.
  const auto type = cache.find("CMAKE_BUILD_TYPE");
  p.cmake_args = "-DCMAKE_BUILD_TYPE=" +
                 (type == cache.end() || type->second.empty() ? "Release" : type->second);
  for (const char* option :
       {"TRELLIS_BUILD_TESTS", "TRELLIS_BUILD_EXAMPLES", "TRELLIS_BUILD_BENCHMARKS"})
    if (const auto it = cache.find(option); it != cache.end())
      p.cmake_args += fmt::format(" -D{}={}", option, it->second);

  const fs::path script = trellis_source_root() / "backends" / "azure" / "job.sh";
  const auto relative = script.lexically_relative(p.source_dir);
  if (!fs::is_regular_file(script) || relative.empty() || *relative.begin() == "..")
    throw std::runtime_error(
        fmt::format("the job builds this program from its sources, so trellis must be part of "
                    "them: '{}' is not a "
                    "file inside the program's project '{}' (add trellis to the project, e.g. with "
                    "add_subdirectory)",
                    script.string(), p.source_dir.string()));
  p.job_script = relative.generic_string();
  return p;
}

}  // namespace trellis::backends::azure
