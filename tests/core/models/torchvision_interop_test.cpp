// The ResNets against torchvision itself (run through Python at test time): the same state-dict
// names, shapes and order; a C++ state dict read by torch.load(weights_only=True) into
// torchvision gives the C++ outputs; a Python torch.save(state_dict) loads into C++.
#include <torch/torch.h>

#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "run_captured.hpp"
#include "test_support.hpp"
#include "trellis/core/models/make_model.hpp"
#include "trellis/core/serialization/state_dict.hpp"

// Last: LibTorch pulls in glog, whose CHECK macro would replace Catch's.
#include <catch2/catch.hpp>

using namespace trellis;
using namespace trellis::core;
using trellis::core::testing::captured_run;
using trellis::core::testing::run_captured;
using trellis::core::testing::scratch;
using trellis::core::testing::scratch_root;
using trellis::core::testing::warm_up_batch_norm;

namespace {

// Runs the reference script with /usr/bin/python3 (the one with torch and torchvision); its
// output stays in models_scratch/reference/<command>.log.
captured_run reference(const std::vector<std::string>& args) {
  std::vector<std::string> argv{TRELLIS_PYTHON, TRELLIS_REFERENCE_SCRIPT};
  argv.insert(argv.end(), args.begin(), args.end());
  auto logs = scratch_root() / "reference";
  std::filesystem::create_directories(logs);
  return run_captured({argv, {}, logs / (args.front() + ".log")});
}

std::string shape_text(c10::IntArrayRef sizes) {
  std::string text;
  for (auto s : sizes) {
    if (!text.empty()) text += ',';
    text += std::to_string(s);
  }
  return text;
}

double max_difference(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

}  // namespace

TEST_CASE("ResNet state dicts have torchvision's names, shapes and order",
          "[models][torchvision]") {
  auto run = reference({"names"});
  INFO(run.output);
  REQUIRE(run.status.success());
  // Lines "arch name [d0,d1,...]", grouped by arch.
  std::map<std::string, std::vector<std::string>> expected;
  std::istringstream lines(run.output);
  for (std::string line; std::getline(lines, line);)
    expected[line.substr(0, line.find(' '))].push_back(line);
  std::map<std::string, std::shared_ptr<classifier>> models{
      {"resnet18", make_builtin_model("resnet18", 3, 1000)},
      {"resnet34", make_builtin_model("resnet34", 3, 1000)},
      {"resnet50", make_builtin_model("resnet50", 3, 1000)}};
  CHECK(expected["resnet18"].size() == 122);
  for (const auto& [arch, model] : models) {
    INFO(arch);
    std::vector<std::string> actual;
    for (const auto& entry : state_dict_of(*model))
      actual.push_back(arch + " " + entry.key() + " [" + shape_text(entry.value().sizes()) + "]");
    CHECK(actual == expected[arch]);
  }
}

TEST_CASE(
    "a C++ state dict loads into torchvision with weights_only=True and gives the same outputs",
    "[serialization][torchvision]") {
  auto dir = scratch("to_python");
  torch::manual_seed(3);
  std::vector<std::pair<std::string, std::shared_ptr<classifier>>> cases{
      {"resnet18", make_builtin_model("resnet18", 3, 7)},
      {"resnet50", make_builtin_model("resnet50", 3, 3)}};
  for (const auto& [arch, model] : cases) {
    warm_up_batch_norm(*model, 3);
    auto images = torch::randn({2, 3, 64, 64});
    torch::Tensor output;
    {
      torch::NoGradGuard no_grad;
      output = model->forward(images);
    }
    auto dict_file = (dir / (arch + ".pt")).string();
    auto io_file = (dir / (arch + "_io.pt")).string();
    save_state_dict(*model, dict_file);
    state_dict io;
    io.insert("input", images);
    io.insert("output", output);
    save_state_dict(io, io_file);

    auto classes = std::to_string(output.size(1));
    auto run = reference({"check", arch, classes, dict_file, io_file});
    INFO(run.output);
    CHECK(run.status.success());
    WARN(run.output);
  }
}

TEST_CASE("a state dict from Python's torch.save loads into the C++ ResNet",
          "[serialization][torchvision]") {
  auto dir = scratch("from_python");
  auto dict_file = (dir / "resnet18.pt").string();
  auto io_file = (dir / "resnet18_io.pt").string();
  auto run = reference({"write", "resnet18", "5", dict_file, io_file});
  INFO(run.output);
  REQUIRE(run.status.success());

  auto model = make_builtin_model("resnet18", 3, 5);
  load_state_dict(*model, dict_file);
  CHECK(state_dict_of(*model)["bn1.num_batches_tracked"].item<std::int64_t>() == 3);
  auto io = read_state_dict(io_file);
  model->eval();
  torch::NoGradGuard no_grad;
  auto difference = max_difference(model->forward(io["input"]), io["output"]);
  WARN("max |C++ - torchvision| = " << difference);
  CHECK(difference <= 1e-5);
}

TEST_CASE("Python files: parameters read as tensors, other objects are refused",
          "[serialization][torchvision]") {
  auto dir = scratch("python_extras");
  auto run = reference({"extras", dir.string()});
  INFO(run.output);
  REQUIRE(run.status.success());
  auto parameters = read_state_dict(dir / "parameters.pt");
  CHECK(torch::equal(parameters["weight"], torch::arange(6.0).view({2, 3})));
  try {
    read_state_dict(dir / "unsafe.pt");
    FAIL("an object that is not a tensor was unpickled");
  } catch (const state_dict_error& e) {
    CHECK_THAT(e.what(), Catch::Contains("unsafe.pt") &&
                             Catch::Contains("unsupported global 'collections.Counter'"));
  }
}
