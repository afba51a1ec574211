// The command line every pipeline program shares: --help, --dry-run, --backend,
// --workspace, --set key=value, --tag key=value, --resume RUN_ID, and the Azure ML workspace
// flags. Parsing only; trellis::main acts on the result.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "trellis/cli/settings.hpp"
#include "trellis/plan/run_plan.hpp"

namespace trellis::cli {

struct options {
  bool help = false;
  bool dry_run = false;
  std::string backend;  ///< "local", "azure", or empty: follow the compute target
  std::string workspace = "trellis-workspace";
  std::vector<std::string> settings;  ///< stage.field=value, in command-line order
  std::vector<std::string> tags;      ///< key=value, recorded with the run
  std::string resume;                 ///< the run to continue from its last checkpoint
  /// The Azure ML workspace; each empty one is read from config.json.
  std::string azure_subscription, azure_resource_group, azure_workspace;
  std::string program = "pipeline";
  std::string invoked_as = "pipeline";  ///< argv[0], for the commands a message suggests
};

/// The program's name as errors print it: argv[0] without its folder.
inline std::string program_name(int argc, const char* const* argv) {
  if (argc < 1 || !argv[0]) return "pipeline";
  std::string_view path = argv[0];
  const auto slash = path.rfind('/');
  return std::string{slash == std::string_view::npos ? path : path.substr(slash + 1)};
}

inline options parse_options(int argc, const char* const* argv) {
  options o;
  o.program = program_name(argc, argv);
  if (argc > 0 && argv[0]) o.invoked_as = argv[0];
  auto take_value = [&](int& i, std::string_view arg, std::string_view flag) -> std::string {
    if (arg.size() > flag.size() && arg[flag.size()] == '=')
      return std::string{arg.substr(flag.size() + 1)};
    if (i + 1 >= argc) throw usage_error(std::string{flag} + " needs a value");
    return argv[++i];
  };
  auto is_flag = [](std::string_view arg, std::string_view flag) {
    return arg == flag || (arg.size() > flag.size() && arg.substr(0, flag.size()) == flag &&
                           arg[flag.size()] == '=');
  };
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      o.help = true;
    } else if (arg == "--dry-run") {
      o.dry_run = true;
    } else if (is_flag(arg, "--backend")) {
      o.backend = take_value(i, arg, "--backend");
      if (o.backend != plan::name_of(plan::backend_kind::local) &&
          o.backend != plan::name_of(plan::backend_kind::azure))
        throw usage_error("--backend=" + o.backend + ": expected local or azure");
    } else if (is_flag(arg, "--workspace")) {
      o.workspace = take_value(i, arg, "--workspace");
      if (o.workspace.empty()) throw usage_error("--workspace needs a folder");
    } else if (is_flag(arg, "--set")) {
      o.settings.push_back(take_value(i, arg, "--set"));
    } else if (is_flag(arg, "--resume")) {
      o.resume = take_value(i, arg, "--resume");
      if (o.resume.empty()) throw usage_error("--resume needs the id of a run (trellis runs list)");
    } else if (is_flag(arg, "--tag")) {
      o.tags.push_back(take_value(i, arg, "--tag"));
      const auto eq = o.tags.back().find('=');
      if (eq == std::string::npos || eq == 0)
        throw usage_error("--tag " + o.tags.back() + ": expected key=value");
    } else if (is_flag(arg, "--subscription")) {
      o.azure_subscription = take_value(i, arg, "--subscription");
    } else if (is_flag(arg, "--resource-group")) {
      o.azure_resource_group = take_value(i, arg, "--resource-group");
    } else if (is_flag(arg, "--azure-workspace")) {
      o.azure_workspace = take_value(i, arg, "--azure-workspace");
    } else {
      throw usage_error("unknown argument '" + std::string{arg} + "' (see --help)");
    }
  }
  return o;
}

inline std::string usage(const options& o) {
  return "usage: " + o.program +
         " [--dry-run] [--backend=local|azure] [--workspace=DIR] [--set stage.field=value]...\n"
         "       [--tag key=value]... [--resume RUN_ID]\n"
         "       [--subscription=ID] [--resource-group=NAME] [--azure-workspace=NAME]\n"
         "  --dry-run        check the plan against this machine, write it, start nothing\n"
         "  --backend        where ranks run (default: follows the compute target)\n"
         "  --workspace      run history and model registry folder (default trellis-workspace)\n"
         "  --set            change a run-time field, e.g. --set train.lr=0.01\n"
         "  --tag            a tag recorded with the run, e.g. --tag owner=vision\n"
         "  --resume         continue a failed or interrupted run from its last checkpoint, with\n"
         "                   its settings (a new run that records which one it resumes)\n"
         "  --subscription, --resource-group, --azure-workspace\n"
         "                   the Azure ML workspace (default: config.json here, in .azureml/ or a\n"
         "                   parent folder)\n";
}

}  // namespace trellis::cli
