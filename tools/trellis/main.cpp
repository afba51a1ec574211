// trellis: the workspace's command line. Lists and shows runs, their metrics and logs, and the
// model registry; downloads and imports model versions. Every command takes --workspace, every
// listing --json.
#include <exception>
#include <iostream>
#include <string>

#include <fmt/format.h>

#include "arguments.hpp"
#include "compare_command.hpp"
#include "models_command.hpp"
#include "models_import.hpp"
#include "runs_command.hpp"
#include "trellis/workspace/workspace.hpp"

namespace {

constexpr const char* usage = R"(usage: trellis [--workspace=DIR] COMMAND [--json]
  experiments list                         the experiments and their run counts
  runs list [--experiment=E]               every run: status, time, backend, models
  runs show RUN [--open]                   a run: status, provenance, final metrics, results page
  runs logs RUN [--rank=N] [--follow]      a rank's log (rank 0 by default)
  runs metrics RUN [--name=M]              metrics per epoch, or every point of one metric
  runs compare RUN RUN... [--label=L]... [--page=FILE]
                                           validation accuracy side by side, test accuracy,
                                           and a comparison page (an experiment's name: its
                                           latest completed run)
  models list                              every registered model and its latest version
  models show NAME[:VERSION]               a version: architecture, metrics, lineage, files
  models download NAME[:VERSION] DIR       a version's files, each checked against its SHA-256
  models import NAME --file=F --model=M --classes=K --input-shape=C,H,W
                [--description=D] [--tag=K=V]...
                                           register a state dict saved elsewhere (torch.save)
  --workspace=DIR   the workspace folder (default trellis-workspace)
  --json            listings and shows as JSON
)";

int run(const trellis::tool::arguments& a) {
  using namespace trellis::tool;
  if (a.flag("help") || a.words().empty()) {
    std::cout << usage;
    return a.words().empty() && !a.flag("help") ? 2 : 0;
  }
  const std::string command = a.words()[0] + " " + (a.words().size() > 1 ? a.words()[1] : "");
  trellis::workspace::workspace w(a.value("workspace").value_or("trellis-workspace"));
  for (const auto& id : w.stale_runs())
    std::cerr << fmt::format("trellis: run {} was found stale and marked Failed\n", id);
  if (command == "experiments list") return experiments_list(w, a);
  if (command == "runs list") return runs_list(w, a);
  if (command == "runs show") return runs_show(w, a);
  if (command == "runs logs") return runs_logs(w, a);
  if (command == "runs metrics") return runs_metrics(w, a);
  if (command == "runs compare") return runs_compare(w, a);
  if (command == "models list") return models_list(w, a);
  if (command == "models show") return models_show(w, a);
  if (command == "models download") return models_download(w, a);
  if (command == "models import") return models_import(w, a);
  throw usage_error(fmt::format("unknown command '{}'", command));
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(trellis::tool::arguments{argc, argv});
  } catch (const trellis::tool::usage_error& e) {
    std::cerr << fmt::format("trellis: {}\n{}", e.what(), usage);
    return 2;
  } catch (const std::exception& e) {
    std::cerr << fmt::format("trellis: error: {}\n", e.what());
    return 1;
  }
}
