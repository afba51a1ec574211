// trellis::main: the command line every pipeline program shares. As the driver it parses the
// options, applies --set (after a resumed run's recorded settings), plans and checks the run
// against this machine, then either writes the plan (--dry-run) or hands it to the backend; as
// a worker (rank variables set) or node launcher it first ties its life to the driver's.
#pragma once
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <type_traits>

#include "trellis/backend.hpp"
#include "trellis/cli/options.hpp"
#include "trellis/cli/settings.hpp"
#include "trellis/posix/parent_death.hpp"
#include "trellis/pipeline.hpp"
#include "trellis/plan/make_plan.hpp"
#include "trellis/plan/write_plan.hpp"

namespace trellis {

namespace detail {
inline bool rank_environment_present() {
  return std::getenv("RANK") != nullptr || std::getenv("OMPI_COMM_WORLD_RANK") != nullptr;
}
inline bool node_launcher_present() {
  const char* v = std::getenv("TRELLIS_NODE_LAUNCHER");
  return v != nullptr && *v != '\0';
}

template <class Tag, class Pipeline>
int run_with(const char* what, const char* header, Pipeline& p, const plan::run_plan& plan,
             const cli::options& o) {
  if constexpr (backend<Tag, Pipeline>::available) {
    return backend<Tag, Pipeline>::run(p, plan, o);
  } else {
    std::cerr << o.program << ": this program was built without " << what << "; include <"
              << header << "> in it (--dry-run works without)\n";
    return 1;
  }
}

/// A backend's own --dry-run files (an Azure backend's request bodies ...), if it writes any;
/// false when they show that the run could not be submitted.
template <class Tag, class Pipeline>
bool dry_run_with(const Pipeline& p, const plan::run_plan& plan, const cli::options& o,
                  const std::filesystem::path& folder) {
  if constexpr (requires { backend<Tag, Pipeline>::dry_run(p, plan, o, folder); })
    return backend<Tag, Pipeline>::dry_run(p, plan, o, folder);
  return true;
}

inline void write_file(const std::filesystem::path& path, const std::string& content) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out.flush()) throw std::runtime_error("cannot write '" + path.string() + "'");
}
}  // namespace detail

template <class Pipeline>
  requires(is_pipeline_v<Pipeline>)
int main(Pipeline p, int argc, char** argv) {
  cli::options o;
  o.program = cli::program_name(argc, argv);
  const bool worker = detail::rank_environment_present(),
             launcher = detail::node_launcher_present();
  if (worker || launcher) posix::die_with_driver();
  try {
    o = cli::parse_options(argc, argv);
    if (o.help) {
      std::cout << cli::usage(o);
      return 0;
    }
    if (!o.resume.empty() && !worker && !launcher) {
      if constexpr (resume_support<Pipeline>::available)
        resume_support<Pipeline>::apply(o);
      else
        throw cli::usage_error(
            "--resume needs the local backend; include <trellis/backends/local.hpp>");
    }
    for (const auto& s : o.settings) cli::apply_setting(p, s);
    // A launcher first: under mpirun it has the rank variables of the rank it keeps.
    if (launcher)
      return detail::run_with<node_launcher_role>("the local backend", "trellis/backends/local.hpp",
                                                  p, plan::run_plan{}, o);
    if (worker)
      return detail::run_with<worker_role>("the training core", "trellis/backends/local.hpp", p,
                                           plan::run_plan{}, o);
    auto plan = plan::make_plan(p, o);
    if (!o.resume.empty() && plan.backend != plan::backend_kind::local)
      throw cli::usage_error("--resume continues a run of the local backend, not of " +
                             std::string{plan::name_of(plan.backend)});
    if constexpr (pipeline_checks<Pipeline>::available) pipeline_checks<Pipeline>::add(p, plan, o);
    if (o.dry_run) {
      const std::filesystem::path file =
          std::filesystem::path{o.workspace} / "dry-run" / "plan.json";
      std::cout << plan::plan_summary(plan);
      detail::write_file(file, plan::plan_json(p, plan));
      std::cout << "plan written to " << file.string() << (plan.ok() ? "" : " (checks FAILED)")
                << "\n";
      const bool backend_ok = plan.backend != plan::backend_kind::azure ||
                              detail::dry_run_with<azure_backend>(p, plan, o, file.parent_path());
      return plan.ok() && backend_ok ? 0 : 1;
    }
    if (!plan.ok()) {
      for (const auto& c : plan.checks)
        if (!c.ok)
          std::cerr << o.program << ": check " << c.name << " failed: " << c.detail << "\n";
      std::cerr << o.program << ": nothing was started\n";
      return 1;
    }
    if (plan.backend == plan::backend_kind::azure)
      return detail::run_with<azure_backend>("the Azure ML backend", "trellis/backends/azure.hpp",
                                             p, plan, o);
    return detail::run_with<local_backend>("the local backend", "trellis/backends/local.hpp", p,
                                           plan, o);
  } catch (const cli::usage_error& e) {
    std::cerr << o.program << ": " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << o.program << ": error: " << e.what() << "\n";
    return 1;
  }
}

/// A pipeline of one stage: main(dataset<...>{...} | train<...>{}) is the usual form.
template <stage S>
int main(S s, int argc, char** argv) {
  if constexpr (!is_valid_v<S>) rules::diagnose(check_t<S>{});
  return trellis::main(detail::as_pipeline(s), argc, argv);
}

}  // namespace trellis
