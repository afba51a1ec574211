// ONNX export benchmark: how long trellis takes to export and verify ResNet-50, and ONNX Runtime
// against LibTorch eval-mode inference on the CPU with the same number of threads, at batch 1
// and 32 (224x224, 1000 classes). Each speed is the best of its timed runs over three rounds
// that alternate the two, so load from elsewhere on the machine slows both alike.
// usage: onnx_bench NODE ORT_BENCH_JS [THREADS] [FOLDER]
#include <fmt/format.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "trellis/core/models/make_model.hpp"
#include "trellis/core/onnx/verify.hpp"
#include "trellis/core/process/child.hpp"

namespace {

using clock_type = std::chrono::steady_clock;
namespace ox = trellis::core::onnx_export;

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

/// The best of `repeats` eval-mode forwards (after one warm-up), in milliseconds.
double libtorch_ms(trellis::core::classifier& model, std::int64_t batch, int repeats) {
  torch::InferenceMode inference;
  auto images = torch::randn({batch, 3, 224, 224});
  model.forward(images);
  double best = 1e300;
  for (int i = 0; i < repeats; ++i) {
    auto start = clock_type::now();
    model.forward(images);
    best = std::min(best, seconds_since(start) * 1e3);
  }
  return best;
}

struct ort_timing {
  std::string version;
  std::map<std::int64_t, double> best_ms;  ///< by batch size
};

ort_timing ort_ms(const std::string& node, const std::string& script,
                  const std::filesystem::path& model, int threads,
                  const std::filesystem::path& folder) {
  auto results = folder / "ort_results.json";
  std::vector<std::string> argv{node,
                                script,
                                model.string(),
                                std::to_string(threads),
                                "3",
                                results.string(),
                                "3",
                                "224",
                                "224",
                                "1",
                                "32"};
  auto status = trellis::core::process::child::spawn({argv, {}, folder / "ort_bench.log"}).wait();
  if (!status.success())
    throw std::runtime_error("ort_bench.js " + status.describe() + "; see " +
                             (folder / "ort_bench.log").string());
  auto json = nlohmann::json::parse(std::ifstream(results));
  ort_timing out{json.at("version").get<std::string>(), {}};
  for (const auto& [batch, ms] : json.at("best_ms").items())
    out.best_ms[std::stoll(batch)] = ms.get<double>();
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    fmt::print(stderr, "usage: onnx_bench NODE ORT_BENCH_JS [THREADS] [FOLDER]\n");
    return 2;
  }
  int threads = argc > 3 ? std::atoi(argv[3]) : 1;
  std::filesystem::path folder =
      argc > 4 ? argv[4] : std::filesystem::temp_directory_path() / "trellis_onnx_bench";
  std::filesystem::create_directories(folder);
  torch::set_num_threads(threads);
  torch::manual_seed(1);
  auto model = trellis::core::make_builtin_model("resnet50", 3, 1000);

  ox::options opts{.file = folder / "resnet50.onnx", .model_type = "resnet50"};
  auto start = clock_type::now();
  auto proto = ox::to_model(*model, opts, {3, 224, 224});
  auto lowered = seconds_since(start);
  start = clock_type::now();
  ox::write_model(proto, opts.file);
  auto written = seconds_since(start);
  start = clock_type::now();
  auto report = ox::export_verified(*model, opts, torch::randn({2, 3, 224, 224}));
  auto verified = seconds_since(start);
  fmt::print(
      "resnet50 export (224x224, 1000 classes, {} thread(s)): trace and lower {:.2f} s, "
      "write {:.2f} s ({:.0f} MB); export_verified {:.2f} s (checker, strict shape "
      "inference, reference evaluator on 2 images: max diff {:.2g})\n",
      threads, lowered, written, std::filesystem::file_size(opts.file) / 1e6, verified,
      report.max_abs_diff);

  std::map<std::int64_t, double> torch_best, ort_best;
  std::string ort_version;
  for (int round = 0; round < 3; ++round) {
    for (std::int64_t batch : {1, 32}) {
      auto ms = libtorch_ms(*model, batch, batch == 1 ? 10 : 2);
      torch_best[batch] = round == 0 ? ms : std::min(torch_best[batch], ms);
    }
    auto ort = ort_ms(argv[1], argv[2], opts.file, threads, folder);
    ort_version = ort.version;
    for (auto [batch, ms] : ort.best_ms)
      ort_best[batch] = round == 0 ? ms : std::min(ort_best[batch], ms);
  }
  fmt::print("{:>5} | {:>14} | {:>14} | {:>16}\n", "batch", "LibTorch ms", "ORT ms",
             "ORT speed-up");
  for (std::int64_t batch : {1, 32})
    fmt::print("{:>5} | {:>14.1f} | {:>14.1f} | {:>15.2f}x\n", batch, torch_best[batch],
               ort_best[batch], torch_best[batch] / ort_best[batch]);
  fmt::print(
      "LibTorch {}.{}.{} eval mode (InferenceMode) and ONNX Runtime {} (onnxruntime-node), "
      "{} thread(s) each; best of 3 rounds\n",
      TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR, TORCH_VERSION_PATCH, ort_version, threads);
  return 0;
}
