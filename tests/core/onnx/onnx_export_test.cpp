// The ONNX files trellis writes, without ONNX Runtime: their form (names, batch axis, weights as
// initializers only, topological order, producer, IR, opset, metadata), nodes that follow the
// model's layers, the up-front check, and every way an export must fail rather than report a
// file as exported: an unsupported layer, a file edited after export (a corrupted weight, a
// wrong shape), images of another shape, options out of range.
#include <fmt/format.h>
#include <torch/torch.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "onnx_test_support.hpp"
#include "trellis/backends/stage_config/export_onnx.hpp"
#include "trellis/core/onnx/verify.hpp"
#include "trellis/core/serialization/state_dict.hpp"
#include "trellis/params/export.hpp"

// Last: LibTorch pulls in glog, whose CHECK macro would replace Catch's.
#include <catch2/catch.hpp>

using namespace trellis;
using namespace trellis::core;
using namespace trellis::core::testing;
namespace ox = trellis::core::onnx_export;

namespace {

template <class Layer>
int count_modules(const torch::nn::Module& model) {
  int n = 0;
  for (const auto& m : model.modules(/*include_self=*/false)) n += m->as<Layer>() != nullptr;
  return n;
}

std::string metadata(const ::onnx::ModelProto& model, const std::string& key) {
  for (const auto& entry : model.metadata_props())
    if (entry.key() == key) return entry.value();
  return "(missing)";
}

/// Dimensions as text: numbers, or the symbol's name.
std::vector<std::string> dims_of(const ::onnx::ValueInfoProto& info) {
  std::vector<std::string> out;
  for (const auto& d : info.type().tensor_type().shape().dim())
    out.push_back(d.has_dim_value() ? std::to_string(d.dim_value()) : d.dim_param());
  return out;
}

/// Every node reads only the input, initializers and earlier nodes' outputs; every initializer is
/// read by some node; no initializer is also a graph input.
void check_topological_with_initializers_only(const ::onnx::GraphProto& graph) {
  std::set<std::string> defined{graph.input(0).name()}, initializers, read;
  for (const auto& init : graph.initializer()) {
    CHECK(initializers.insert(init.name()).second);
    defined.insert(init.name());
  }
  for (const auto& input : graph.input()) CHECK_FALSE(initializers.contains(input.name()));
  for (const auto& node : graph.node()) {
    for (const auto& input : node.input()) {
      INFO(node.name() << " reads " << input);
      CHECK(defined.contains(input));
      read.insert(input);
    }
    for (const auto& output : node.output()) CHECK(defined.insert(output).second);
  }
  for (const auto& name : initializers) {
    INFO("initializer " << name);
    CHECK(read.contains(name));
  }
  CHECK(defined.contains(graph.output(0).name()));
}

/// Throws unless `f` throws an onnx_export::error whose message contains every part.
template <class F>
void require_error(F&& f, std::initializer_list<std::string> parts) {
  try {
    f();
  } catch (const ox::error& e) {
    std::string what = e.what();
    INFO(what);
    for (const auto& part : parts) CHECK_THAT(what, Catch::Contains(part));
    return;
  }
  FAIL_CHECK("no error");
}

}  // namespace

TEST_CASE(
    "an export has one input 'input' and one output 'output', a named or fixed batch, "
    "weights as initializers only, nodes in order, and trellis's producer and metadata",
    "[onnx]") {
  auto dir = onnx_scratch("form");
  torch::manual_seed(1);
  auto c = test_models()[1];  // resnet18
  for (bool dynamic : {true, false}) {
    INFO((dynamic ? "dynamic" : "static") << " batch");
    ox::options opts{.file = dir / "resnet18.onnx",
                     .opset = 13,
                     .dynamic_batch = dynamic,
                     .batch_size = 3,
                     .run_id = "run_7",
                     .model_type = "resnet18",
                     .metadata = {{"dataset", "synthetic"}}};
    auto report = ox::export_verified(*c.model, opts, c.images(3));
    CHECK(report.checker_passed);
    CHECK(report.shape_inference_passed);
    CHECK(report.file == opts.file);
    CHECK(report.images_compared == (dynamic ? 4 : 3));  // dynamic: also the first image alone
    CHECK(report.max_abs_diff <= 1e-4);
    CHECK_FALSE(std::filesystem::exists(dir / "resnet18.onnx.unverified"));

    auto model = ox::read_model(opts.file);
    CHECK(model.ir_version() == 8);
    CHECK(model.producer_name() == "trellis");
    CHECK(model.producer_version() == TRELLIS_PROJECT_VERSION);
    REQUIRE(model.opset_import_size() == 1);
    CHECK(model.opset_import(0).domain().empty());
    CHECK(model.opset_import(0).version() == 13);
    const auto& graph = model.graph();
    REQUIRE(graph.input_size() == 1);
    REQUIRE(graph.output_size() == 1);
    CHECK(graph.input(0).name() == "input");
    CHECK(graph.output(0).name() == "output");
    std::string batch = dynamic ? "batch" : "3";
    CHECK(dims_of(graph.input(0)) == std::vector<std::string>{batch, "3", "64", "64"});
    CHECK(dims_of(graph.output(0)) == std::vector<std::string>{batch, "10"});
    check_topological_with_initializers_only(graph);
    CHECK(metadata(model, "run_id") == "run_7");
    CHECK(metadata(model, "model_type") == "resnet18");
    CHECK(metadata(model, "classes") == "10");
    CHECK(metadata(model, "input_shape") == "[3, 64, 64]");
    CHECK(metadata(model, "batch") == batch);
    CHECK(metadata(model, "batch_norm") == "folded");
    CHECK(metadata(model, "dataset") == "synthetic");
  }
}

TEST_CASE(
    "the nodes follow the model's layers; kept BatchNorm reads the state dict's tensors; "
    "folded BatchNorm leaves none",
    "[onnx]") {
  torch::manual_seed(2);
  for (auto& c : test_models()) {
    INFO(c.name);
    const auto& model = *c.model;
    auto convolutions = count_modules<torch::nn::Conv2d>(model);
    auto batch_norms = count_modules<torch::nn::BatchNorm2d>(model);
    auto linears = count_modules<torch::nn::Linear>(model);
    auto folded = ox::to_model(*c.model, {}, c.image_shape);
    auto kept = ox::to_model(*c.model, {.fold_batch_norm = false}, c.image_shape);
    auto f = ox::count_nodes(folded), k = ox::count_nodes(kept);
    CHECK(f["Conv"] == convolutions);
    CHECK(f["Gemm"] == linears);
    CHECK_FALSE(f.contains("BatchNormalization"));
    CHECK_FALSE(f.contains("Dropout"));
    CHECK(k["BatchNormalization"] == batch_norms);
    k.erase("BatchNormalization");
    CHECK(k == f);
    CHECK(metadata(kept, "batch_norm") == "kept");

    // Kept: every initializer is the state-dict entry of that name (nothing folded or renamed).
    auto dict = state_dict_of(model);
    for (const auto& init : kept.graph().initializer()) {
      INFO(init.name());
      REQUIRE(dict.contains(init.name()));
      CHECK(torch::equal(ox::from_tensor_proto(init, init.name()), dict[init.name()]));
    }
    // Folded: each convolution followed by BatchNorm reads folded weights and a bias.
    int folded_weights = 0;
    for (const auto& node : folded.graph().node())
      if (node.op_type() == "Conv" && node.input(1).ends_with(".bn_folded")) {
        CHECK(node.input_size() == 3);
        ++folded_weights;
      }
    CHECK(folded_weights == batch_norms);
  }
}

TEST_CASE("a folded BatchNorm computes what the convolution and BatchNorm do in eval mode",
          "[onnx]") {
  torch::manual_seed(3);
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(3, 6, 3).padding(1).groups(3));
  torch::nn::BatchNorm2d bn(torch::nn::BatchNorm2dOptions(6).eps(1e-3));
  randomize_batch_norm(*bn);
  bn->eval();
  auto folded = ox::fold_batch_norm(conv->weight, conv->bias, bn->weight, bn->bias,
                                    bn->running_mean, bn->running_var, 1e-3);
  auto x = torch::randn({2, 3, 8, 8});
  torch::NoGradGuard no_grad;
  auto expected = bn(conv(x));
  auto actual = torch::conv2d(x, folded.weight, folded.bias, 1, 1, 1, 3);
  CHECK(max_abs_diff(actual, expected) <= 1e-5);
}

TEST_CASE(
    "an export leaves the model's mode, weights and statistics and the random generator "
    "alone",
    "[onnx]") {
  auto dir = onnx_scratch("side_effects");
  torch::manual_seed(4);
  auto c = test_models()[1];
  c.model->train();
  auto before = state_dict_of(*c.model);
  std::map<std::string, torch::Tensor> copies;
  for (const auto& e : before) copies[e.key()] = e.value().clone();
  auto images = c.images(2);

  torch::manual_seed(5);
  ox::check_exportable(*c.model, c.image_shape);
  ox::export_verified(*c.model, {.file = dir / "m.onnx"}, images);
  auto drawn = torch::randn({4});
  torch::manual_seed(5);
  CHECK(torch::equal(drawn, torch::randn({4})));
  CHECK(c.model->is_training());
  for (const auto& e : state_dict_of(*c.model)) {
    INFO(e.key());
    CHECK(torch::equal(e.value(), copies[e.key()]));
  }
}

TEST_CASE("an export_onnx stage gives its opset, batch axis and file", "[onnx]") {
  auto dynamic = backends::export_options_for(export_onnx<opset<13>>{.file = "net.onnx"}, "run_3",
                                              "resnet18");
  CHECK(dynamic.opset == 13);
  CHECK(dynamic.dynamic_batch);
  CHECK(dynamic.file == "net.onnx");
  CHECK(dynamic.run_id == "run_3");
  CHECK(dynamic.model_type == "resnet18");
  auto fixed = backends::export_options_for(export_onnx<static_batch>{});
  CHECK(fixed.opset == 17);
  CHECK_FALSE(fixed.dynamic_batch);
  CHECK(fixed.file == "model.onnx");
}

TEST_CASE("a layer without an ONNX export is found before training, named, and never exported",
          "[onnx]") {
  auto dir = onnx_scratch("unsupported");
  user_classifier<sigmoid_net> sigmoid(1, 10);
  user_classifier<lstm_net> lstm(1, 10);
  require_error(
      [&] {
        ox::check_exportable(sigmoid, {1, 28, 28});
      },
      {"cannot export aten::sigmoid (node 1 of the traced forward, after layer 'conv'",
       "no ONNX export", "input [2, 4, 26, 26]"});
  require_error(
      [&] {
        ox::check_exportable(lstm, {1, 28, 28});
      },
      {"aten::lstm (node ", "layer 'lstm'", "no ONNX export"});
  require_error(
      [&] {
        ox::export_verified(lstm, {.file = dir / "lstm.onnx"}, torch::randn({2, 1, 28, 28}));
      },
      {"aten::lstm"});
  CHECK_FALSE(std::filesystem::exists(dir / "lstm.onnx"));
  CHECK_FALSE(std::filesystem::exists(dir / "lstm.onnx.unverified"));

  // A layer the export supports, used in a way ONNX cannot express, is refused as clearly.
  user_classifier<exportable_net> net(3, 10);
  require_error(
      [&] {
        ox::check_exportable(net, {3, 40, 40});
      },
      {"aten::adaptive_avg_pool2d", "does not divide"});
}

TEST_CASE(
    "a file edited after export fails verification: a corrupted weight by the comparison, a "
    "wrong shape by the checker, strict shape inference or the reference evaluator",
    "[onnx]") {
  auto dir = onnx_scratch("edited");
  torch::manual_seed(6);
  auto c = test_models()[1];
  ox::options opts{.file = dir / "resnet18.onnx"};
  auto images = c.images(2);
  ox::export_verified(*c.model, opts, images);
  auto original = ox::read_model(opts.file);
  auto edited = [&](const std::string& name, auto&& edit) {
    auto model = original;
    edit(model);
    auto file = dir / name;
    ox::write_model(model, file);
    return file;
  };
  auto initializer = [](::onnx::ModelProto& model,
                        const std::string& name) -> ::onnx::TensorProto& {
    for (auto& init : *model.mutable_graph()->mutable_initializer())
      if (init.name() == name) return init;
    FAIL("no initializer " << name);
    throw;
  };

  // One float of fc.weight changed: a valid file that computes something else.
  auto corrupted = edited("corrupted.onnx", [&](::onnx::ModelProto& m) {
    auto& raw = *initializer(m, "fc.weight").mutable_raw_data();
    float value;
    std::memcpy(&value, raw.data() + 40, sizeof value);
    value += 0.25F;
    std::memcpy(raw.data() + 40, &value, sizeof value);
  });
  CHECK_NOTHROW(ox::check_model_file(corrupted));
  require_error([&] { ox::verify_file(corrupted, *c.model, opts, images); },
                {"corrupted.onnx", "differ from LibTorch's by up to"});

  // fc.weight [10, 512] stored as [512, 10]: Gemm's shapes no longer fit.
  auto reshaped = edited("reshaped.onnx", [&](::onnx::ModelProto& m) {
    auto& w = initializer(m, "fc.weight");
    w.set_dims(0, 512);
    w.set_dims(1, 10);
  });
  require_error([&] { ox::verify_file(reshaped, *c.model, opts, images); },
                {"reshaped.onnx", "fails strict ONNX shape inference"});

  // A convolution inside the graph gets [32, 128, 3, 3] for [64, 64, 3, 3] (the same bytes): ONNX
  // 1.12's shape inference does not compare a Conv's input channels with its weight (Python's
  // full_check passes too); the reference evaluator, running the node, refuses it.
  auto regrouped = edited("regrouped.onnx", [&](::onnx::ModelProto& m) {
    auto& w = initializer(m, "layer1.0.conv1.weight.bn_folded");
    w.set_dims(0, 32);
    w.set_dims(1, 128);
  });
  CHECK_NOTHROW(ox::check_model_file(regrouped));
  require_error([&] { ox::verify_file(regrouped, *c.model, opts, images); },
                {"regrouped.onnx", "node 'layer1.0.conv1' (Conv)", "to have 128 channels"});

  // Flatten's axis 5 on a rank-4 input: an error inside the graph, which only strict inference
  // reports (otherwise the node's output shape is just left unknown).
  auto misflattened = edited("misflattened.onnx", [&](::onnx::ModelProto& m) {
    for (auto& node : *m.mutable_graph()->mutable_node())
      if (node.op_type() == "Flatten") node.mutable_attribute(0)->set_i(5);
  });
  require_error([&] { ox::verify_file(misflattened, *c.model, opts, images); },
                {"misflattened.onnx", "fails strict ONNX shape inference", "Flatten"});

  // The declared output [batch, 11] while the graph computes [batch, 10].
  auto mislabeled = edited("mislabeled.onnx", [&](::onnx::ModelProto& m) {
    m.mutable_graph()
        ->mutable_output(0)
        ->mutable_type()
        ->mutable_tensor_type()
        ->mutable_shape()
        ->mutable_dim(1)
        ->set_dim_value(11);
  });
  require_error([&] { ox::verify_file(mislabeled, *c.model, opts, images); },
                {"mislabeled.onnx", "fails strict ONNX shape inference"});

  // A node reading a value no node defines: the checker refuses it.
  auto dangling = edited("dangling.onnx", [&](::onnx::ModelProto& m) {
    m.mutable_graph()->mutable_node(3)->set_input(0, "nowhere");
  });
  require_error([&] { ox::verify_file(dangling, *c.model, opts, images); },
                {"dangling.onnx", "fails the ONNX checker", "nowhere"});

  // Not an ONNX file at all.
  auto garbage = dir / "garbage.onnx";
  std::ofstream(garbage) << "not a model";
  require_error([&] { ox::verify_file(garbage, *c.model, opts, images); },
                {"garbage.onnx", "not an ONNX model"});
}

TEST_CASE("images or options the export cannot honour are errors that say why", "[onnx]") {
  auto dir = onnx_scratch("bad_input");
  torch::manual_seed(7);
  auto c = test_models()[1];
  ox::options opts{.file = dir / "resnet18.onnx"};
  ox::export_verified(*c.model, opts, c.images(2));

  // ResNets pool globally, so LibTorch runs 32x32 images; the file declares 64x64.
  require_error([&] { ox::verify_file(opts.file, *c.model, opts, c.images(2).narrow(2, 0, 32)); },
                {"resnet18.onnx", "declared [batch, 3, 64, 64]", "[2, 3, 32, 64]"});
  // The file has a dynamic batch; verifying it as static batch 2 is refused.
  auto as_static = opts;
  as_static.dynamic_batch = false;
  as_static.batch_size = 2;
  require_error([&] { ox::verify_file(opts.file, *c.model, as_static, c.images(2)); },
                {"batch dimension of 'input' is 'batch', expected 2"});
  require_error(
      [&] {
        ox::export_verified(*c.model,
                            {.file = dir / "s.onnx", .dynamic_batch = false, .batch_size = 4},
                            c.images(2));
      },
      {"2 sample images are fewer than the static batch of 4"});
  for (std::int64_t opset : {6, 18})
    require_error([&] { ox::check_exportable(*c.model, c.image_shape, {.opset = opset}); },
                  {fmt::format("opset {} is outside 7..17", opset)});
  require_error([&] { ox::check_exportable(*c.model, {3, 64}); }, {"must be [C, H, W]"});
  // exportable_net's ceil-mode pooling needs opset 10.
  user_classifier<exportable_net> net(3, 10);
  require_error(
      [&] {
        ox::check_exportable(net, {3, 32, 32}, {.opset = 9});
      },
      {"aten::max_pool2d", "ceil_mode needs opset 10"});
}
