// What the workspace costs a run, next to what training costs, measured in one process:
// registrations per second (a ResNet-18-sized and a small-CNN-sized model.pt), the cost of one
// logged step on rank 0 (metrics.jsonl and the TensorBoard event file) and of indexing it into
// workspace.db (the driver's metrics_follower), against the time of one training step of the
// small CNN and of ResNet-18 (1 thread, batch 64, as a rank trains).
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "trellis/core/models/make_model.hpp"
#include "trellis/core/train/metrics_log.hpp"
#include "trellis/workspace/metrics_follower.hpp"
#include "trellis/workspace/workspace.hpp"

namespace fs = std::filesystem;
namespace ws = trellis::workspace;
using clock_type = std::chrono::steady_clock;

namespace {
double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

/// Median of `repeats` timings of `f`, in seconds.
template <class F>
double median_time(int repeats, F&& f) {
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) {
    const auto start = clock_type::now();
    f();
    times.push_back(seconds_since(start));
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

void write_bytes(const fs::path& file, std::size_t size) {
  std::ofstream out(file, std::ios::binary);
  std::vector<char> block(1 << 20);
  for (std::size_t i = 0; i < block.size(); ++i) block[i] = static_cast<char>(i * 31);
  for (std::size_t left = size; left > 0;) {
    const std::size_t n = std::min(left, block.size());
    out.write(block.data(), static_cast<std::streamsize>(n));
    left -= n;
  }
}

double train_step_seconds(const std::shared_ptr<trellis::core::classifier>& model,
                          std::int64_t channels, std::int64_t size) {
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
  const auto images = torch::randn({64, channels, size, size});
  const auto labels = torch::randint(0, 10, {64});
  auto step = [&] {
    optimizer.zero_grad();
    torch::nn::functional::cross_entropy(model->forward(images), labels).backward();
    optimizer.step();
  };
  for (int i = 0; i < 3; ++i) step();  // warm up
  return median_time(15, step);
}
}  // namespace

int main() {
  torch::set_num_threads(1);
  const fs::path dir = fs::temp_directory_path() / fmt::format("trellis-bench-ws-{}", ::getpid());
  fs::remove_all(dir);
  ws::workspace w(dir / "ws");

  fmt::print("workspace costs, measured on this machine ({})\n\n", ws::host_name());
  const double cnn_step =
      train_step_seconds(trellis::core::make_builtin_model("small_cnn", 1, 10, {28, 28}), 1, 28);
  const double resnet_step =
      train_step_seconds(trellis::core::make_builtin_model("resnet18", 1, 10), 1, 32);
  fmt::print(
      "training step (1 thread, batch 64): small CNN 28x28 {:.2f} ms, ResNet-18 32x32 {:.2f} "
      "ms\n\n",
      1e3 * cnn_step, 1e3 * resnet_step);

  // Registration: a whole register_model (copy, hash, transaction, rename, fsyncs).
  for (const auto& [what, bytes] :
       {std::pair{"small CNN model.pt (1.7 MB)", std::size_t{1'690'000}},
        std::pair{"ResNet-18 model.pt (44.7 MB)", std::size_t{44'700'000}}}) {
    const fs::path file = dir / "model.pt";
    write_bytes(file, bytes);
    ws::registration r;
    r.name = "bench";
    r.arch = {"resnet18", 10, 1, 32, 32};
    r.files = {{"model.pt", file}};
    const double t = median_time(7, [&] { ws::register_model(w.db(), w.root(), r); });
    fmt::print("register_model, {}: {:.1f} ms, {:.1f} registrations/s\n", what, 1e3 * t, 1 / t);
  }

  // One logged step of a 2-rank run: train_loss, lr, images_per_s and each rank's throughput.
  const fs::path run = dir / "run";
  trellis::core::metrics_log log(run, 0, 0);
  const int steps = 2000;
  std::size_t step = 0;
  const double write = median_time(5, [&] {
                         for (int i = 0; i < steps / 5; ++i, ++step) {
                           log.write(1, step, "train_loss", 0.5);
                           log.write(1, step, "lr", 0.01);
                           log.write(1, step, "images_per_s", 900.0);
                           for (std::size_t r = 0; r < 2; ++r)
                             log.write(1, step, "rank_images_per_s", 450.0, r);
                         }
                       }) / (steps / 5);
  const auto record = ws::create_run(w.db(), w.root(), {"bench", "local", "{}", "{}", {}, {}, {}});
  ws::metrics_follower follower(run / "metrics.jsonl", record.id);
  const auto start = clock_type::now();
  const std::size_t points = follower.sync(w.db());
  const double index = seconds_since(start) / static_cast<double>(step);
  fmt::print("\none logged step (5 values, 2 ranks): written by rank 0 {:.1f} us, indexed by the "
             "driver {:.1f} us ({} points in one transaction)\n",
             1e6 * write, 1e6 * index, points);
  // Rank 0 logs every 50 steps (train_config::log_every_steps); the driver indexes elsewhere.
  fmt::print("rank 0's share of a step, logging every 50 steps: {:.4f}% of a small-CNN step, "
             "{:.5f}% of a ResNet-18 step\n",
             100 * write / 50 / cnn_step, 100 * write / 50 / resnet_step);
  fmt::print(
      "the same, per logged step: {:.3f}% of a small-CNN step, {:.4f}% of a ResNet-18 step\n",
      100 * write / cnn_step, 100 * write / resnet_step);
  fs::remove_all(dir);
}
