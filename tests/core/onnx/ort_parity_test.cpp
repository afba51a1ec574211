// trellis's ONNX files in ONNX Runtime: small_cnn, ResNet-18/34/50 and a user module (random
// weights, random BatchNorm statistics), BatchNorm folded and kept, at batch sizes 1, 2 and 5,
// against LibTorch's eval-mode outputs (and the reference evaluator against them too); every
// opset from 7 to 17; and the batch axis, dynamic or static.
#include <fmt/format.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "onnx_test_support.hpp"
#include "ort.hpp"
#include "trellis/core/onnx/verify.hpp"

// Last: LibTorch pulls in glog, whose CHECK macro would replace Catch's.
#include <catch2/catch.hpp>

using namespace trellis::core;
using namespace trellis::core::testing;
namespace onnx_export = trellis::core::onnx_export;

namespace {

constexpr double tolerance = 1e-4;

struct expectation {
  std::string what;
  torch::Tensor output;
};

/// Runs every job in ORT and checks each output against its expectation; returns the largest
/// difference.
double check_in_ort(const std::vector<ort_job>& jobs, const std::vector<expectation>& expected,
                    const std::filesystem::path& dir) {
  auto results = run_ort(jobs, dir);
  REQUIRE(results.size() == expected.size());
  double largest = 0;
  for (std::size_t i = 0; i < results.size(); ++i) {
    INFO(expected[i].what);
    INFO(results[i].error);
    REQUIRE(results[i].error.empty());
    REQUIRE(results[i].output.sizes() == expected[i].output.sizes());
    auto diff = max_abs_diff(results[i].output, expected[i].output);
    INFO("max |ORT - LibTorch| = " << diff);
    CHECK(diff <= tolerance);
    largest = std::max(largest, diff);
  }
  return largest;
}

}  // namespace

TEST_CASE(
    "small_cnn, the ResNets and a user module give LibTorch's outputs in ONNX Runtime and "
    "in the reference evaluator, BatchNorm folded or kept, at batch sizes 1, 2 and 5",
    "[onnx][ort]") {
  auto dir = onnx_scratch("parity");
  torch::manual_seed(11);
  std::vector<ort_job> jobs;
  std::vector<expectation> expected;
  double evaluator_largest = 0;
  for (auto& c : test_models()) {
    for (bool fold : {true, false}) {
      auto file = dir / fmt::format("{}_{}.onnx", c.name, fold ? "folded" : "kept");
      onnx_export::export_verified(
          *c.model,
          {.file = file, .fold_batch_norm = fold, .run_id = "parity", .model_type = c.name},
          c.images(5));
      onnx_export::reference_evaluator evaluator(onnx_export::read_model(file), file.string());
      for (std::int64_t batch : {1, 2, 5}) {
        auto images = c.images(batch);
        auto what = fmt::format("{} batch {}", file.filename().string(), batch);
        auto libtorch = eval_outputs(*c.model, images);
        auto evaluated = evaluator.run(images);
        INFO(what);
        REQUIRE(evaluated.sizes() == libtorch.sizes());
        CHECK(max_abs_diff(evaluated, libtorch) <= tolerance);
        evaluator_largest = std::max(evaluator_largest, max_abs_diff(evaluated, libtorch));
        jobs.push_back({file, images});
        expected.push_back({what, libtorch});
      }
    }
  }
  auto largest = check_in_ort(jobs, expected, dir / "ort");
  WARN("over " << jobs.size() << " runs, largest |ORT - LibTorch| = " << largest
               << ", largest |reference evaluator - LibTorch| = " << evaluator_largest);
}

TEST_CASE("every opset from 7 to 17 runs in ONNX Runtime with LibTorch's outputs", "[onnx][ort]") {
  auto dir = onnx_scratch("opsets");
  torch::manual_seed(12);
  auto models = test_models();
  std::vector<ort_job> jobs;
  std::vector<expectation> expected;
  for (std::int64_t opset = onnx_export::min_opset; opset <= onnx_export::max_opset; ++opset) {
    // small_cnn for Gemm and MaxPool, resnet18 with BatchNormalization nodes kept.
    for (std::size_t m : {0, 1}) {
      auto& c = models[m];
      auto file = dir / fmt::format("{}_opset{}.onnx", c.name, opset);
      auto report = onnx_export::export_verified(
          *c.model, {.file = file, .opset = opset, .fold_batch_norm = m == 0}, c.images(2));
      CHECK(report.opset == opset);
      auto images = c.images(3);
      jobs.push_back({file, images});
      expected.push_back({file.filename().string(), eval_outputs(*c.model, images)});
    }
  }
  check_in_ort(jobs, expected, dir / "ort");
}

TEST_CASE("a static batch runs only at its size in ONNX Runtime; a dynamic one at any",
          "[onnx][ort]") {
  auto dir = onnx_scratch("batch_axis");
  torch::manual_seed(13);
  auto c = test_models().front();
  auto fixed = dir / "static.onnx", dynamic = dir / "dynamic.onnx";
  onnx_export::export_verified(*c.model, {.file = fixed, .dynamic_batch = false, .batch_size = 4},
                               c.images(4));
  onnx_export::export_verified(*c.model, {.file = dynamic}, c.images(4));

  std::vector<ort_job> jobs{{fixed, c.images(4)}, {dynamic, c.images(1)}, {dynamic, c.images(7)}};
  std::vector<expectation> expected;
  for (const auto& job : jobs)
    expected.push_back({job.model.filename().string(), eval_outputs(*c.model, job.images)});
  check_in_ort(jobs, expected, dir / "ort_accepted");

  auto refused = run_ort({{fixed, c.images(3)}, {fixed, c.images(1)}}, dir / "ort_refused");
  for (const auto& r : refused) {
    INFO(r.error);
    CHECK_FALSE(r.output.defined());
    CHECK_THAT(r.error, Catch::Contains("index: 0 Got: ") && Catch::Contains("Expected: 4"));
  }
}
