// The Azure ML v2 backend: a pipeline whose compute is an Azure VM size runs as a command job in
// an Azure ML workspace (driver: backends/azure/driver.hpp; --dry-run files: dry_run.hpp). The
// job rebuilds the program on the cluster and runs it in worker mode, which the local backend's
// worker serves, so this header includes it.
#pragma once
#include <filesystem>

#include "trellis/backend.hpp"
#include "trellis/backends/azure/driver.hpp"
#include "trellis/backends/azure/dry_run.hpp"
#include "trellis/backends/local.hpp"
#include "trellis/main.hpp"

namespace trellis {

template <class Pipeline>
struct backend<azure_backend, Pipeline> {
  static constexpr bool available = true;
  static int run(Pipeline& p, const plan::run_plan& plan, const cli::options& o) {
    return backends::azure::run_job(p, plan, o);
  }
  static bool dry_run(const Pipeline& p, const plan::run_plan& plan, const cli::options& o,
                      const std::filesystem::path& folder) {
    return backends::azure::write_dry_run(p, plan, o, folder);
  }
};

}  // namespace trellis
