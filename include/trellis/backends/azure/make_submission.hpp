// make_submission: from a checked pipeline, its plan and the command line to everything one
// Azure submission sends — environment, code snapshot, compute cluster, command job, the model
// version to register and the one transfer_from starts from — decided before any request, so
// --dry-run writes exactly what a run would send.
#pragma once
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "trellis/backends/azure/assets.hpp"
#include "trellis/backends/azure/program_project.hpp"
#include "trellis/backends/azure/snapshot.hpp"
#include "trellis/cli/options.hpp"
#include "trellis/pipeline.hpp"
#include "trellis/plan/field_values.hpp"
#include "trellis/plan/run_plan.hpp"

namespace trellis::backends::azure {

/// How long a job may run before Azure cancels it (limits.timeout).
inline constexpr std::size_t job_timeout_seconds = 24 * 3600;

struct submission {
  program_project project;
  snapshot sources;
  environment_asset environment;
  code_asset code;
  compute_cluster compute;
  command_job job;
  std::optional<model_registration> model;
  std::optional<transfer_model> transfer;    ///< the plan's transfer_from source
  std::vector<std::string> not_carried_out;  ///< stages this backend does not carry out yet
};

namespace detail {

/// One argument for the job's shell command: quoted unless it is plainly safe; ${{...}}
/// placeholders stay bare, since Azure replaces them in the command text.
inline std::string shell_word(const std::string& arg) {
  if (arg.find_first_not_of(
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./=:,+-@") ==
      std::string::npos)
    return arg;
  if (arg.starts_with("${{") && arg.ends_with("}}")) return arg;
  std::string quoted = "'";
  for (char c : arg) quoted += c == '\'' ? std::string{"'\\''"} : std::string(1, c);
  return quoted + "'";
}

/// What the job needs to build and run a trellis program, from conda-forge, for a custom image.
inline std::string conda_file_for(std::size_t torch, const std::vector<std::string>& pip) {
  std::string torch_spec =
      torch ? fmt::format("pytorch={}.{}", torch / 100, torch % 100) : "pytorch";
  std::string s =
      "# Written by trellis: what the job needs to build and run the pipeline program.\n"
      "name: trellis\nchannels:\n  - conda-forge\ndependencies:\n  - python=3.10\n  - " +
      torch_spec +
      "\n  - cmake\n  - ninja\n  - cxx-compiler\n  - fmt\n  - nlohmann_json\n  - libcurl\n  - "
      "sqlite\n"
      "  - libpng\n  - libjpeg-turbo\n  - zlib\n  - onnx\n  - boost-cpp\n  - range-v3\n  - "
      "openmpi\n  - pip\n";
  if (!pip.empty()) {
    s += "  - pip:\n";
    for (const auto& p : pip) s += "    - " + p + "\n";
  }
  return s;
}

inline std::string hex16(const std::string& a, const std::string& b) {
  fnv1a h;
  h.add(a);
  h.add(b);
  return fmt::format("{:016x}", h.h);
}

/// Azure asset and job names: letters, digits, '-', '_'.
inline std::string asset_name(std::string s) {
  for (auto& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '-';
  return s;
}

inline std::string new_job_name(const std::string& experiment) {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &utc);
  std::uniform_int_distribution<unsigned> pick(0, 0xffff);
  std::random_device random;
  return fmt::format("{}-{}-{:04x}", asset_name(experiment), stamp, pick(random));
}

inline std::string self_executable() {
  return std::filesystem::read_symlink("/proc/self/exe").string();
}

}  // namespace detail

/// What a submission needs of a pipeline, read from its types and braces; everything else in
/// make_submission is ordinary code, compiled once rather than once per pipeline type.
struct pipeline_inputs {
  bool env_curated = false;
  std::string env_name, env_image, conda_path;
  std::size_t env_torch = 0;
  std::vector<std::string> pip;
  std::string cluster, experiment, dataset_root;
  bool low_priority = false, has_dataset = false;
  std::size_t min_nodes = 0, max_nodes = 1, idle_seconds = 1800;
  std::optional<model_registration> model;
  std::vector<std::string> not_carried_out;
};

template <class Pipeline>
pipeline_inputs inputs_of(const Pipeline& p) {
  using V = pipeline_view_t<Pipeline>;
  using plan::to_std;
  pipeline_inputs in;
  in.env_curated = V::environment::facts.curated;
  in.env_name = std::string{to_std(V::environment::facts.name)};
  in.env_image = std::string{to_std(V::environment::facts.image)};
  in.env_torch = V::environment::facts.torch;
  if constexpr (V::has_environment) {
    const auto& env = get<stage_order::environment>(p);
    for (const auto& item : env.pip) in.pip.emplace_back(to_std(item.view()));
    in.conda_path = std::string{to_std(env.conda_file.view())};
  }
  in.cluster = std::string{to_std(V::compute::facts.cluster_name)};
  in.low_priority = V::compute::facts.low_priority;
  in.min_nodes = V::compute::facts.min_nodes;
  in.max_nodes = V::compute::facts.max_nodes;
  if constexpr (V::has_compute)
    in.idle_seconds = get<stage_order::compute>(p).idle_seconds_before_scaledown;
  in.experiment = std::string{to_std(V::train::facts.experiment)};
  if constexpr (V::has_dataset) {
    in.has_dataset = true;
    in.dataset_root = std::string{to_std(get<stage_order::dataset>(p).root.view())};
  }
  if constexpr (V::has_register_model) {
    const auto& reg = get<stage_order::register_model>(p);
    model_registration m;
    m.name = std::string{to_std(V::register_model::facts.name)};
    m.description = std::string{to_std(reg.description.view())};
    for (const auto& t : reg.tags)
      m.tags[std::string{to_std(t.key.view())}] = std::string{to_std(t.value.view())};
    m.properties["trellis.model"] = std::string{to_std(V::train::model::name)};
    m.properties["trellis.classes"] = std::to_string(V::dataset::facts.classes);
    if constexpr (V::dataset::facts.static_shape)
      m.properties["trellis.input_shape"] =
          fmt::format("{}x{}x{}", V::dataset::shape::channels, V::dataset::shape::height,
                      V::dataset::shape::width);
    m.properties["trellis.format"] = "torch state_dict (model.pt)";
    if constexpr (V::has_export_onnx)
      m.properties["trellis.onnx"] =
          std::string{to_std(get<stage_order::export_onnx>(p).file.view())};
    in.model = std::move(m);
  }
  return in;
}

inline submission make_submission(const pipeline_inputs& in, const plan::run_plan& plan,
                                  const cli::options& o, const std::vector<std::string>& secrets) {
  namespace fs = std::filesystem;
  submission s;
  s.project = find_program_project(detail::self_executable());

  s.sources = collect_snapshot(s.project.source_dir, {{fs::absolute(o.workspace)}, secrets});
  const auto& files = s.sources.files;
  auto in_snapshot = [&](const std::string& relative) {
    return std::any_of(files.begin(), files.end(), [&](const snapshot_file& f) {
      return f.relative == relative || f.relative.starts_with(relative + "/");
    });
  };
  if (!in_snapshot(s.project.job_script))
    throw std::runtime_error(
        fmt::format("'{}' is ignored by an .amlignore or .gitignore, but the job needs it",
                    s.project.job_script));
  s.code = {detail::asset_name(s.project.target), s.sources.hash, files.size(), s.sources.bytes};

  // Environment: a curated one is referred to in the azureml registry, under the name its image
  // has there; a custom one becomes a version of this workspace.
  s.environment.curated = in.env_curated;
  s.environment.image = in.env_image;
  if (in.env_curated) {
    s.environment.name = in.env_image.substr(in.env_image.rfind('/') + 1);
    s.environment.registry_id = fmt::format(
        "azureml://registries/azureml/environments/{}/labels/latest", s.environment.name);
  } else {
    s.environment.name = in.env_name;
    if (in.conda_path.empty()) {
      s.environment.conda_file = detail::conda_file_for(in.env_torch, in.pip);
    } else {
      std::ifstream file(in.conda_path);
      if (!file)
        throw std::runtime_error(
            fmt::format("environment.conda_file '{}' cannot be read", in.conda_path));
      s.environment.conda_file.assign(std::istreambuf_iterator<char>{file}, {});
    }
    s.environment.version = detail::hex16(s.environment.image, s.environment.conda_file);
  }

  // Compute: the cluster the compute stage names.
  s.compute = {in.cluster,   plan.target,  in.low_priority,
               in.min_nodes, in.max_nodes, in.idle_seconds};

  // The job: Azure starts the command once per process (per_process), or once per node, which then
  // starts its ranks (per_node); the command builds the program and runs it as a worker.
  auto& job = s.job;
  job.experiment = in.experiment;
  job.name = detail::new_job_name(job.experiment);
  job.display_name = fmt::format("{} ({})", s.project.target, job.experiment);
  job.distribution = plan.framework;
  job.nodes = plan.nodes;
  job.processes_per_node = plan.launch == plan::launch_kind::per_node ? 1 : plan.procs;
  job.timeout_seconds = job_timeout_seconds;
  job.tags = {{"trellis.program", s.project.target},
              {"trellis.world_size", std::to_string(plan.world_size())}};
  job.environment_variables["TRELLIS_JOB_CMAKE_ARGS"] = s.project.cmake_args;
  // Azure sets MASTER_ADDR, MASTER_PORT, WORLD_SIZE, NODE_RANK, RANK and LOCAL_RANK, not the
  // processes per node, which the workers need.
  job.environment_variables["LOCAL_WORLD_SIZE"] = std::to_string(plan.procs);
  if (plan.framework == plan::framework_kind::mpi)
    job.environment_variables["MASTER_PORT"] = std::to_string(plan.master_port);

  std::vector<std::string> args{"bash",           s.project.job_script,
                                "--target",       s.project.target,
                                "--model-output", "${{outputs." + job.model_output + "}}"};
  if (plan.transfer) {
    // The version the plan resolved goes as a model input; the worker checks it against the
    // SHA-256 the plan verified (TRELLIS_TRANSFER_SHA256), as local ranks do.
    const auto& t = *plan.transfer;
    const std::string name = t.model.substr(0, t.model.rfind(':'));
    std::error_code ec;
    const auto bytes = fs::file_size(t.file, ec);
    s.transfer = transfer_model{
        name, t.model, t.sha256, t.file,
        code_asset{detail::asset_name("trellis-model-" + name), t.sha256.substr(0, 16), 1,
                   ec ? 0 : bytes,
                   "model.pt of " + t.model + " for transfer_from, uploaded by trellis"}};
    job.inputs[transfer_model::input] = transfer_model::job_input(name, "<version>");
    job.environment_variables["TRELLIS_TRANSFER_SHA256"] = t.sha256;
    args.insert(args.end(),
                {"--transfer-from", fmt::format("${{{{inputs.{}}}}}", transfer_model::input)});
  }
  if (plan.launch == plan::launch_kind::per_node)
    args.insert(args.end(), {"--per-node", std::to_string(plan.procs)});
  args.emplace_back("--");
  for (const auto& setting : o.settings)
    if (!setting.starts_with("dataset.root=")) args.push_back("--set=" + setting);
  if (in.has_dataset) {
    if (in.dataset_root.starts_with("azureml:")) {
      job.inputs["dataset"] = {
          {"jobInputType", "uri_folder"}, {"uri", in.dataset_root}, {"mode", "ReadOnlyMount"}};
      args.emplace_back("--set=dataset.root=${{inputs.dataset}}");
    } else {
      // A local dataset travels with the sources; the job runs in the snapshot's root.
      const auto relative = fs::weakly_canonical(fs::absolute(in.dataset_root))
                                .lexically_relative(s.project.source_dir);
      if (relative.empty() || *relative.begin() == ".." || !in_snapshot(relative.generic_string()))
        throw std::runtime_error(
            fmt::format("dataset '{}' is not part of the code snapshot of '{}': the job gets its "
                        "data with the sources, "
                        "so put it inside that folder (and not in .amlignore/.gitignore), or "
                        "register it as a data "
                        "asset and use .root = \"azureml:<name>:<version>\"",
                        in.dataset_root, s.project.source_dir.string()));
      args.push_back("--set=dataset.root=" + relative.generic_string());
      // job.sh leaves the data out of its build's key: new data alone does not rebuild.
      const auto separator = std::find(args.begin(), args.end(), "--");
      args.insert(separator, {"--data", relative.generic_string()});
    }
  }
  for (const auto& a : args) {
    if (!job.command.empty()) job.command += ' ';
    job.command += detail::shell_word(a);
  }
  s.model = in.model;
  s.not_carried_out = in.not_carried_out;
  if (plan.max_restarts > 0) s.not_carried_out.emplace_back("distributed.max_restarts");
  return s;
}

template <class Pipeline>
submission make_submission(const Pipeline& p, const plan::run_plan& plan, const cli::options& o,
                           const std::vector<std::string>& secrets) {
  return make_submission(inputs_of(p), plan, o, secrets);
}

}  // namespace trellis::backends::azure
