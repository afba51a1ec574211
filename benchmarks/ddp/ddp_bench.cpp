// One rank of the DDP speed benchmark, started by torchrun --no_python like the Python side:
// trains the model on one fixed synthetic batch (so data loading is not measured) and prints
// rank 0's images/s as one JSON line, with gradient sync (the DDP core) and without it (no_sync);
// on the CPU over Gloo (or shared memory, all ranks being on this host), or on LOCAL_RANK's GPU
// over NCCL.
#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <string>
#include <vector>
#include <trellis/core/ddp/process_group.hpp>
#include <trellis/core/ddp/rank_env.hpp>
#include <trellis/core/ddp/reducer.hpp>
#include <trellis/core/models/make_model.hpp>
#include <trellis/core/process/rank_process.hpp>

using namespace trellis;

int main(int argc, char** argv) {
  if (argc != 5 && argc != 6) {
    std::cerr << "usage: ddp_bench small_cnn|resnet18 IMAGE_SIDE BATCH STEPS [cpu|cuda]\n";
    return 2;
  }
  const std::string model_name = argv[1], device_kind = argc == 6 ? argv[5] : "cpu";
  const std::int64_t side = std::stoll(argv[2]), batch = std::stoll(argv[3]),
                     steps = std::stoll(argv[4]);
  core::process::prepare_rank_process(1);  // as train_rank does, with one thread per rank
  torch::manual_seed(1);

  const auto env = core::ddp::read_rank_env();
  const bool cuda = device_kind == "cuda";
  const torch::Device device =
      cuda ? torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(env.local_rank))
           : torch::Device(torch::kCPU);
  core::ddp::group_options options;
  options.backend = cuda ? core::ddp::backend_kind::nccl : core::ddp::backend_kind::gloo;
  auto group = std::make_shared<core::ddp::process_group>(env, options);
  const std::int64_t channels = model_name == "small_cnn" ? 1 : 3;
  auto model = model_name == "small_cnn"
                   ? core::make_builtin_model("small_cnn", channels, 10, {side, side})
                   : core::make_builtin_model("resnet18", channels, 10, {side, side});
  model->to(device);
  core::ddp::reducer sync(*model, group);
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
  const auto images = torch::randn({batch, channels, side, side}).to(device);
  const auto labels = torch::randint(0, 10, {batch}).to(device);
  auto finish_queued_work =
      [&] {  // GPU kernels run asynchronously: time what they do, not their launch
        if (cuda) torch::cuda::synchronize();
      };

  auto step = [&] {
    optimizer.zero_grad();
    sync.before_forward();
    torch::nn::functional::cross_entropy(model->forward(images), labels).backward();
    sync.finalize();
    optimizer.step();
  };
  auto window = [&](bool synced) {  // images/s over steps / 5 steps
    std::optional<core::ddp::reducer::no_sync_guard> off;
    if (!synced) off.emplace(sync);
    const std::int64_t n = std::max<std::int64_t>(1, steps / 5);
    group->barrier();
    finish_queued_work();
    const auto start = std::chrono::steady_clock::now();
    for (std::int64_t i = 0; i < n; ++i) step();
    finish_queued_work();
    // A window ends when every rank has done its steps: without sync the job still moves at its
    // slowest rank's pace, so a rank that happens to be faster must not count as sync cost.
    group->barrier();
    return static_cast<double>(batch * n) /
           std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  window(true), window(false);  // warm-up
  // Synced and no-sync windows alternate, so machine noise hits both alike. Each speed is the
  // best of its windows, as Python's timeit does: on a shared machine noise only ever slows a
  // window down. The sync cost is also given as the median over adjacent (synced, no-sync)
  // pairs, which a burst of load in one part of the run does not move.
  constexpr int pairs = 7;
  double synced = 0, local = 0;
  std::vector<double> costs;
  for (int w = 0; w < pairs; ++w) {
    const double with_sync = window(true), without = window(false);
    synced = std::max(synced, with_sync), local = std::max(local, without);
    costs.push_back(without / with_sync - 1);  // extra time per synced step
  }
  std::nth_element(costs.begin(), costs.begin() + pairs / 2, costs.end());
  group->barrier();
  if (env.rank == 0)
    std::cout << "{\"images_per_s\": " << synced << ", \"no_sync_images_per_s\": " << local
              << ", \"paired_sync_cost\": " << costs[pairs / 2] << "}" << std::endl;
  return 0;
}
