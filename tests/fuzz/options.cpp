// Fuzzes parse_options (cli/options.hpp): the input, split at NUL bytes, is argv[1...].
// Whatever it accepts must be one of the documented forms; anything else a usage_error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "trellis/cli/options.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> args{"/opt/bin/prog"};
  std::string arg;
  for (std::size_t i = 0; i <= size; ++i) {
    if (i == size || data[i] == '\0') {
      args.push_back(arg);
      arg.clear();
    } else {
      arg += static_cast<char>(data[i]);
    }
  }
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  try {
    const auto o = trellis::cli::parse_options(static_cast<int>(args.size()), argv.data());
    const bool known_backend = o.backend.empty() || o.backend == "local" || o.backend == "azure";
    if (!known_backend || o.workspace.empty() || o.program != "prog" ||
        o.settings.size() >= args.size() || trellis::cli::usage(o).empty())
      std::abort();
  } catch (const trellis::cli::usage_error&) {
  }
  return 0;
}
