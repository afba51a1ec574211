// trellis's export against Python's torch.onnx.export of the same weights: small_cnn (its Python
// replica) and torchvision's ResNet-18/34/50 with the state dict trellis saved. Both files give
// the same outputs in ONNX Runtime and have the same nodes by op type (BatchNorm folded in both);
// the reference evaluator runs Python's file too, with LibTorch's outputs.
#include <fmt/format.h>
#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include "onnx_test_support.hpp"
#include "ort.hpp"
#include "run_captured.hpp"
#include "trellis/core/onnx/verify.hpp"
#include "trellis/core/serialization/state_dict.hpp"

// Last: LibTorch pulls in glog, whose CHECK macro would replace Catch's.
#include <catch2/catch.hpp>

using namespace trellis::core;
using namespace trellis::core::testing;
namespace onnx_export = trellis::core::onnx_export;

TEST_CASE(
    "trellis's export and torch.onnx.export's of the same weights give the same outputs in "
    "ONNX Runtime and have the same nodes",
    "[onnx][ort][python]") {
  auto dir = onnx_scratch("torch_onnx");
  torch::manual_seed(21);
  auto models = test_models();
  models.pop_back();  // the user module has no Python twin
  // One Python process writes every torch.onnx file (each start costs seconds).
  std::vector<std::string> argv{TRELLIS_PYTHON, TRELLIS_TORCH_ONNX_SCRIPT};
  for (auto& c : models) {
    save_state_dict(*c.model, dir / (c.name + ".pt"));
    for (const auto& arg :
         {c.name, std::string("10"), std::to_string(c.image_shape[1]),
          (dir / (c.name + ".pt")).string(), (dir / (c.name + "_torch.onnx")).string()})
      argv.push_back(arg);
  }
  auto run = run_captured({argv, {}, dir / "torch_onnx.log"});
  INFO(run.output);
  REQUIRE(run.status.success());
  WARN("torch.onnx's nodes:\n" << run.output);

  std::vector<ort_job> jobs;
  std::vector<std::string> what;
  for (auto& c : models) {
    auto ours = dir / (c.name + "_trellis.onnx"), theirs = dir / (c.name + "_torch.onnx");
    onnx_export::options opts{.file = ours, .model_type = c.name};
    auto report = onnx_export::export_verified(*c.model, opts, c.images(5));
    // Python's file passes the same checks, the reference evaluator included.
    opts.file = theirs;
    auto python = onnx_export::verify_file(theirs, *c.model, opts, c.images(5));
    INFO(c.name);
    CHECK(report.nodes == python.nodes);
    WARN(c.name << ": reference evaluator on torch.onnx's file: max |diff| to LibTorch "
                << python.max_abs_diff);
    for (std::int64_t batch : {1, 2, 5}) {
      auto images = c.images(batch);
      jobs.push_back({ours, images});
      jobs.push_back({theirs, images});
      what.push_back(fmt::format("{} batch {}", c.name, batch));
    }
  }
  auto results = run_ort(jobs, dir / "ort");
  double largest = 0;
  for (std::size_t i = 0; i < what.size(); ++i) {
    const auto& ours = results[2 * i];
    const auto& theirs = results[2 * i + 1];
    INFO(what[i] << ": " << ours.error << theirs.error);
    REQUIRE(ours.output.defined());
    REQUIRE(theirs.output.defined());
    REQUIRE(ours.output.sizes() == theirs.output.sizes());
    auto diff = max_abs_diff(ours.output, theirs.output);
    CHECK(diff <= 1e-4);
    largest = std::max(largest, diff);
  }
  WARN("largest |ORT(trellis) - ORT(torch.onnx)| over " << what.size() << " batches: " << largest);
}
