// tool_command: how the end of a run tells its user to call the `trellis` command line: its name
// when it is on PATH, else its path in the build tree beside the program, with --workspace when
// the workspace is not the default.
#pragma once
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

#include "trellis/cli/options.hpp"

namespace trellis::backends {

inline std::string tool_command(const cli::options& o) {
  namespace fs = std::filesystem;
  std::string tool = "trellis";
  bool on_path = false;
  if (const char* path = std::getenv("PATH"))
    for (std::string_view rest = path; !rest.empty() && !on_path;) {
      const auto colon = rest.find(':');
      on_path = ::access((fs::path{rest.substr(0, colon)} / "trellis").c_str(), X_OK) == 0;
      rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
    }
  std::error_code ec;
  const auto self = fs::read_symlink("/proc/self/exe", ec);
  if (!on_path && !ec)
    for (const auto& candidate : {self.parent_path().parent_path() / "bin" / "trellis",
                                  self.parent_path() / "trellis"})
      if (::access(candidate.c_str(), X_OK) == 0) {
        tool = fs::relative(candidate, fs::current_path(), ec).string();
        if (ec || tool.empty() || tool.starts_with("..")) tool = candidate.string();
        break;
      }
  if (o.workspace != cli::options{}.workspace) tool += " --workspace=" + o.workspace;
  return tool;
}

}  // namespace trellis::backends
