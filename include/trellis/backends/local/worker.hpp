// The worker: what a process does when it is a rank (RANK or OMPI_COMM_WORLD_RANK set, by this
// backend, torchrun, mpirun or Azure ML). It checks the settings as the plan did, joins the
// process group, opens its shard of the data, builds the model from the seed and runs the shared
// DDP training loop; in a driver's run it keeps its status file (rank_status.hpp), and in an
// Azure ML job rank 0 also logs its metrics to the job's MLflow run.
#pragma once
#include <c10/core/Device.h>
#include <fcntl.h>
#include <torch/cuda.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "trellis/backends/azure/mlflow_forwarder.hpp"
#include "trellis/backends/export_model.hpp"
#include "trellis/backends/local/rank_status.hpp"
#include "trellis/backends/pipeline_model.hpp"
#include "trellis/backends/stage_config/dataset.hpp"
#include "trellis/backends/stage_config/train.hpp"
#include "trellis/cli/options.hpp"
#include "trellis/core/data/loader.hpp"
#include "trellis/core/ddp/process_group.hpp"
#include "trellis/core/ddp/rank_env.hpp"
#include "trellis/core/train/trainer.hpp"
#include "trellis/pipeline.hpp"
#include "trellis/plan/field_values.hpp"
#include "trellis/plan/settings_check.hpp"
#include "trellis/workspace/workspace.hpp"

namespace trellis::backends::local {

namespace detail {
inline std::string env_or(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string{v} : std::move(fallback);
}

/// Under mpirun every rank writes its own log (TRELLIS_LOG_DIR/rank_<N>.log).
inline void redirect_output_to_rank_log(int rank) {
  const char* dir = std::getenv("TRELLIS_LOG_DIR");
  if (!dir || !*dir) return;
  const auto path = std::filesystem::path{dir} / ("rank_" + std::to_string(rank) + ".log");
  const bool append = env_or("TRELLIS_RESTART", "0") != "0";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0644);
  if (fd < 0) return;
  std::fflush(stdout);
  ::dup2(fd, 1);
  ::dup2(fd, 2);
  ::close(fd);
}

/// The rank's device: the driver says (TRELLIS_DEVICE); under torchrun or Azure ML a GPU job
/// uses the GPU of its local rank.
inline c10::Device rank_device(const core::ddp::rank_env& env, bool gpu_target) {
  std::string device = env_or(
      "TRELLIS_DEVICE", gpu_target && torch::cuda::is_available() ? "cuda:local_rank" : "cpu");
  if (device == "cuda:local_rank") device = "cuda:" + std::to_string(env.local_rank);
  return c10::Device{device};
}

/// The transfer_from file: the one the driver's plan resolved (TRELLIS_TRANSFER_FILE), checked
/// again against the SHA-256 the plan verified; without a driver (torchrun, mpirun), the registry's
/// version (train.transfer_version, 0 for the latest), verified the same way.
inline std::filesystem::path transfer_file(const cli::options& o, const std::string& name,
                                           std::size_t version) {
  const std::string planned = env_or("TRELLIS_TRANSFER_FILE", "");
  if (planned.empty()) {
    workspace::workspace w(o.workspace);
    const auto card = workspace::get_model_version(
        w.db(), name,
        version > 0 ? std::optional{static_cast<std::int64_t>(version)} : std::nullopt);
    return workspace::verified_file(w.root(), card);
  }
  const std::string expected = env_or("TRELLIS_TRANSFER_SHA256", "");
  const std::string actual = workspace::sha256_of_file(planned);
  if (actual != expected)
    throw workspace::registry_error(fmt::format(
        "train: transfer_from<\"{}\">: '{}' changed after the plan checked it (SHA-256 {}, the "
        "registry recorded {}); refusing to use it",
        name, planned, actual, expected));
  return planned;
}

}  // namespace detail

template <class Pipeline>
int run_worker(Pipeline& p, const cli::options& o) {
  using V = pipeline_view_t<Pipeline>;
  static_assert(V::has_dataset && V::has_train, "a worker needs a dataset and a train stage");
  const auto env = core::ddp::read_rank_env();
  detail::redirect_output_to_rank_log(env.rank);
  const auto device = detail::rank_device(env, V::gpu);
  const auto backend =
      device.is_cuda() ? core::ddp::backend_kind::nccl : core::ddp::backend_kind::gloo;
  std::cout << "[trellis] rank " << env.rank << " of " << env.world_size << ": local_rank "
            << env.local_rank << " of " << env.local_world_size << ", node " << env.node_rank
            << ", device " << device.str()
            << (backend == core::ddp::backend_kind::nccl ? " (nccl)" : " (gloo)") << ", ranks from "
            << (env.source == core::ddp::rank_source::mpi ? "mpi" : "torch env")
            << (env.use_agent_store ? " (agent store)" : "") << "\n[trellis] rank " << env.rank
            << " pid " << ::getpid() << std::endl;
  // Its last word, even on a full disk; the group outlives the catch below, so the others see
  // this rank leave only after it has said why.
  std::optional<own_status> status;
  if (const char* run_dir = std::getenv("TRELLIS_RUN_DIR"))
    status.emplace(run_dir, static_cast<std::size_t>(env.rank));
  std::shared_ptr<core::ddp::process_group> group;
  try {
    plan::require_valid_settings(p);
    auto& data = get<stage_order::dataset>(p);
    auto& training = get<stage_order::train>(p);
    const typename V::distributed dist_defaults{};
    std::size_t timeout_s = dist_defaults.timeout_s;
    if constexpr (V::has_distributed) timeout_s = get<stage_order::distributed>(p).timeout_s;

    core::ddp::group_options group_options;
    group_options.timeout = std::chrono::seconds(timeout_s);
    group_options.backend = backend;
    group = std::make_shared<core::ddp::process_group>(env, group_options);

    auto config = train_config_for(training, static_cast<std::size_t>(env.world_size));
    config.run_dir = detail::env_or("TRELLIS_RUN_DIR", ".");  // Azure ML: outputs/ in the cwd
    config.device = device;
    // In an Azure ML job, rank 0's metrics also go to the job's MLflow run, live in the Studio.
    const auto mlflow = env.rank == 0 ? azure::mlflow_forwarder::from_environment() : nullptr;
    if (mlflow) config.forward_metrics = azure::mlflow_forwarder::sink(mlflow);
    if constexpr (!V::train::transfer::name.empty()) {
      config.transfer_from = detail::transfer_file(
          o, std::string{plan::to_std(V::train::transfer::name)}, training.transfer_version);
      if (env.rank == 0)
        std::cout << fmt::format("[trellis] rank 0: transfer_from {} (SHA-256 checked)\n",
                                 config.transfer_from.string());
    }

    auto splits = core::open_dataset(dataset_options_for(data));
    const auto world = static_cast<std::size_t>(env.world_size),
               rank = static_cast<std::size_t>(env.rank);
    core::loader train_loader(
        splits.train, loader_options_for(data, config.batch, rank, world, config.seed, true));
    core::loader val_loader(
        splits.val, loader_options_for(data, config.batch, rank, world, config.seed, false));
    std::optional<core::loader> test_loader;  // evaluated once, on the selected model
    if (splits.test)
      test_loader.emplace(splits.test, loader_options_for(data, config.batch, rank, world,
                                                          config.seed, false));
    config.class_names = splits.class_names;

    torch::manual_seed(config.seed);  // the initial weights come from the seed too
    auto model = make_pipeline_model<Pipeline>();
    const auto result = core::train_rank(model, train_loader, val_loader, group, config,
                                         core::print_progress(),
                                         test_loader ? &*test_loader : nullptr);
    if (mlflow) {
      mlflow->close();
      std::cout << fmt::format("[trellis] rank 0: {} metric values sent to MLflow run {}\n",
                               mlflow->sent(), mlflow->run_id());
    }
    if constexpr (V::has_export_onnx)
      if (env.rank == 0) {
        // A batch of validation images, as the model sees them, for the file's comparison.
        val_loader.set_epoch(0);
        const auto images = val_loader.next();
        if (!images)
          throw std::runtime_error(
              "export_onnx: rank 0 has no validation image to check the file with");
        const core::run_files files{config.run_dir};
        const auto report = export_trained_model(
            p, *model, files, images->images,
            detail::env_or("AZUREML_RUN_ID",
                           std::filesystem::canonical(config.run_dir).filename()));
        std::cout << fmt::format(
                         "[trellis] exported {}: ONNX checker and strict shape inference passed; "
                         "max |ONNX - LibTorch| {:.2g} on {} validation images (allowed {:.2g})",
                         report.file.string(), report.max_abs_diff, report.images_compared,
                         report.allowed_diff)
                  << std::endl;
      }
    if (result.resumed_epochs > 0)
      std::cout << "[trellis] rank " << env.rank << " resumed after epoch " << result.resumed_epochs
                << "\n";
    std::cout << "[trellis] rank " << env.rank << " finished" << std::endl;
    if (status) status->finished();
    return 0;
  } catch (const std::exception& e) {
    // A collective that failed was most often another rank's failure seen from here.
    const bool consequence = dynamic_cast<const core::ddp::collective_error*>(&e) != nullptr;
    if (status) status->failed(std::string{"error: "} + e.what(), consequence);
    std::cout << failure_line(env.rank, e.what(), consequence) << std::endl;
    return 1;
  }
}

}  // namespace trellis::backends::local
