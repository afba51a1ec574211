// The model zoo, state-dict files and transfer learning, in C++ only (the torchvision side is
// in torchvision_interop_test.cpp), and the front end's model tags mapped onto the zoo
// (backends/stage_config/model.hpp).
#include <torch/torch.h>

#include <fstream>
#include <string>
#include <string_view>

#include "test_support.hpp"
#include "trellis/backends/stage_config/model.hpp"
#include "trellis/core/models/make_model.hpp"
#include "trellis/core/models/transfer.hpp"
#include "trellis/core/serialization/state_dict.hpp"

// Last: LibTorch pulls in glog, whose CHECK macro would replace Catch's.
#include <catch2/catch.hpp>

using namespace trellis;
using namespace trellis::core;
using trellis::backends::make_model;
using trellis::core::testing::parameter_count;
using trellis::core::testing::scratch;
using trellis::core::testing::warm_up_batch_norm;

namespace {

// A user module as the front end sees it (name, onnx_exportable) and the core trains it.
struct tiny_net : torch::nn::Module {
  static constexpr text_view name = "tiny_net";
  static constexpr bool onnx_exportable = true;
  tiny_net(std::int64_t in_channels, std::int64_t classes)
      : conv{register_module("conv", torch::nn::Conv2d(in_channels, 8, 3))},
        bn{register_module("bn", torch::nn::BatchNorm2d(8))},
        classifier{register_module("classifier", torch::nn::Linear(8, classes))} {
    scale = register_parameter("scale", torch::ones({1}));
  }
  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(bn(conv(x))) * scale;
    return classifier(torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1));
  }
  torch::nn::Conv2d conv;
  torch::nn::BatchNorm2d bn;
  torch::nn::Linear classifier;
  torch::Tensor scale;
};

// The same with an explicitly named head that is not the last Linear.
struct named_head_net : torch::nn::Module {
  static constexpr text_view name = "named_head_net";
  static constexpr bool onnx_exportable = true;
  static constexpr std::string_view head_name = "out";
  named_head_net(std::int64_t in_channels, std::int64_t classes)
      : out{register_module("out", torch::nn::Linear(in_channels, classes))},
        extra{register_module("extra", torch::nn::Linear(classes, classes))} {}
  torch::Tensor forward(torch::Tensor x) { return out(x.mean({2, 3})); }
  torch::nn::Linear out, extra;
};

struct not_a_module {
  static constexpr text_view name = "plain";
  static constexpr bool onnx_exportable = false;
  not_a_module(std::int64_t, std::int64_t) {}
  torch::Tensor forward(torch::Tensor x) { return x; }
};
struct no_class_count : torch::nn::Module {
  explicit no_class_count(std::int64_t) {}
  torch::Tensor forward(torch::Tensor x) { return x; }
};

static_assert(trainable_module<tiny_net>);
static_assert(trainable_module<named_head_net>);
static_assert(!trainable_module<not_a_module>);
static_assert(!trainable_module<no_class_count>);
static_assert(!trainable_module<int>);

bool same_entries(const state_dict& a, const state_dict& b, bool skip_head = false) {
  if (!skip_head && a.size() != b.size()) return false;
  for (const auto& entry : a) {
    if (skip_head && (entry.key() == "fc.weight" || entry.key() == "fc.bias")) continue;
    const auto* other = b.find(entry.key());
    if (!other || !torch::equal(entry.value(), *other)) return false;
  }
  return true;
}

template <class F>
state_dict_error error_of(F&& f) {
  try {
    f();
  } catch (const state_dict_error& e) {
    return e;
  }
  FAIL("no state_dict_error was thrown");
  return state_dict_error("", "", "");
}

}  // namespace

TEST_CASE("ResNets have torchvision's parameter and state-dict entry counts", "[models]") {
  struct expected {
    std::shared_ptr<classifier> model;
    std::int64_t parameters;
    std::size_t entries;
  };
  for (const auto& [model, parameters, entries] :
       {expected{make_builtin_model("resnet18", 3, 1000), 11'689'512, 122},
        expected{make_builtin_model("resnet34", 3, 1000), 21'797'672, 218},
        expected{make_builtin_model("resnet50", 3, 1000), 25'557'032, 320}}) {
    CHECK(parameter_count(*model) == parameters);
    CHECK(state_dict_of(*model).size() == entries);
    CHECK(model->head_name() == "fc");
  }
  // Other channel and class counts change only conv1 and fc.
  CHECK(parameter_count(*resnet18(1, 10)) == 11'689'512 - 64 * 2 * 49 - 512 * 990 - 990);
}

TEST_CASE("ResNet layout, initialisation and forward shapes", "[models]") {
  auto model = resnet50(3, 5);
  auto entries = state_dict_of(*model);
  CHECK(entries["layer1.0.downsample.0.weight"].sizes() == torch::IntArrayRef{256, 64, 1, 1});
  CHECK(entries["layer2.0.conv2.weight"].sizes() == torch::IntArrayRef{128, 128, 3, 3});
  CHECK(entries["layer4.2.bn3.num_batches_tracked"].dtype() == torch::kLong);
  CHECK(entries["fc.weight"].sizes() == torch::IntArrayRef{5, 2048});
  CHECK_FALSE(entries.contains("layer1.1.downsample.0.weight"));

  // Kaiming normal, fan_out, ReLU gain: std sqrt(2 / (64 * 7 * 7)) for conv1.
  auto std = entries["conv1.weight"].std().item<double>();
  CHECK(std == Approx(std::sqrt(2.0 / (64 * 49))).epsilon(0.05));
  CHECK(torch::all(entries["bn1.weight"] == 1).item<bool>());
  CHECK(torch::all(entries["bn1.bias"] == 0).item<bool>());

  model->eval();
  torch::NoGradGuard no_grad;
  CHECK(model->forward(torch::randn({2, 3, 64, 64})).sizes() == torch::IntArrayRef{2, 5});
  auto gray = make_model<models::resnet18>(input_shape<1, 28, 28>{}, 10);
  gray->eval();
  CHECK(gray->forward(torch::randn({3, 1, 28, 28})).sizes() == torch::IntArrayRef{3, 10});
}

TEST_CASE("small_cnn: the classic Fashion-MNIST baseline for any input shape", "[models]") {
  auto model = make_model<models::small_cnn>(input_shape<1, 28, 28>{}, 10);
  // conv 1->32 (320), conv 32->64 (18,496), fc 3136->128 (401,536), fc 128->10 (1,290)
  CHECK(parameter_count(*model) == 421'642);
  auto entries = state_dict_of(*model);
  CHECK(entries.size() == 8);
  CHECK(entries.keys() == std::vector<std::string>{"conv1.weight", "conv1.bias", "conv2.weight",
                                                   "conv2.bias", "fc1.weight", "fc1.bias",
                                                   "fc2.weight", "fc2.bias"});
  CHECK(model->head_name() == "fc2");
  for (const auto& module : model->modules()) CHECK_FALSE(module->as<torch::nn::BatchNorm2d>());

  torch::NoGradGuard no_grad;
  model->eval();
  CHECK(model->forward(torch::randn({5, 1, 28, 28})).sizes() == torch::IntArrayRef{5, 10});
  for (auto [c, h, w] : std::initializer_list<std::array<std::int64_t, 3>>{
           {3, 32, 32}, {3, 30, 30}, {2, 64, 48}, {1, 4, 4}}) {
    auto other = make_builtin_model("small_cnn", c, 7, {h, w});
    other->eval();
    CHECK(other->forward(torch::randn({2, c, h, w})).sizes() == torch::IntArrayRef{2, 7});
  }
  CHECK_THROWS_WITH(small_cnn(1, 10, 3, 28), Catch::Contains("too small"));
}

TEST_CASE("user modules keep their own names and train through the classifier", "[models]") {
  auto model = make_model<models::user<tiny_net>>(3, 4);
  auto& inner = static_cast<user_classifier<tiny_net>&>(*model).module();
  CHECK(state_dict_of(*model).keys() == state_dict_of(inner).keys());
  CHECK(state_dict_of(*model).keys() ==
        std::vector<std::string>{"scale", "conv.weight", "conv.bias", "bn.weight", "bn.bias",
                                 "bn.running_mean", "bn.running_var", "bn.num_batches_tracked",
                                 "classifier.weight", "classifier.bias"});
  CHECK(model->head_name() == "classifier");
  CHECK(model->in_head("classifier.weight"));
  CHECK_FALSE(model->in_head("classifier_extra.weight"));

  model->eval();
  CHECK_FALSE(inner.is_training());
  model->train();
  CHECK(inner.is_training());

  // One SGD step on the classifier's parameters moves the user module's tensors.
  auto before = inner.conv->weight.clone();
  torch::optim::SGD sgd(model->parameters(), 0.1);
  model->forward(torch::randn({2, 3, 8, 8})).sum().backward();
  sgd.step();
  CHECK_FALSE(torch::equal(before, inner.conv->weight));

  CHECK(make_user_model<named_head_net>(3, 4)->head_name() == "out");
}

TEST_CASE("built-in models by name, and the front end's tags on the same list", "[models]") {
  CHECK_THROWS_WITH(make_builtin_model("resnet101", 3, 10),
                    Catch::Contains("'resnet101' is not built in") &&
                        Catch::Contains("resnet18, resnet34, resnet50, small_cnn"));
  static_assert(is_builtin_model("small_cnn") && !is_builtin_model("resnet101"));
  // Each tag's model is the one its name builds: same layout, same parameter count.
  auto by_tag = make_model<models::resnet34>(1, 7);
  auto by_name = make_builtin_model("resnet34", 1, 7);
  CHECK(state_dict_of(*by_tag).keys() == state_dict_of(*by_name).keys());
  CHECK(parameter_count(*by_tag) == parameter_count(*by_name));
  CHECK(parameter_count(*make_model<models::small_cnn>(3, 10, {32, 32})) ==
        parameter_count(*make_builtin_model("small_cnn", 3, 10, {32, 32})));
  CHECK(state_dict_of(*make_model<models::user<named_head_net>>(3, 4)).keys() ==
        state_dict_of(*make_user_model<named_head_net>(3, 4)).keys());
}

TEST_CASE("state dicts round-trip through files in PyTorch's order", "[serialization]") {
  auto dir = scratch("round_trip");
  auto model = resnet18(3, 10);
  warm_up_batch_norm(*model, 3);
  save_state_dict(*model, dir / "model.pt");
  CHECK_FALSE(std::filesystem::exists(dir / "model.pt.partial"));

  auto read = read_state_dict(dir / "model.pt");
  CHECK(read.keys() == state_dict_of(*model).keys());
  CHECK(same_entries(read, state_dict_of(*model)));
  CHECK(read["bn1.num_batches_tracked"].item<std::int64_t>() == 3);

  auto copy = resnet18(3, 10);
  load_state_dict(*copy, dir / "model.pt");
  copy->eval();
  auto images = torch::randn({2, 3, 64, 64});
  torch::NoGradGuard no_grad;
  CHECK(torch::equal(copy->forward(images), model->forward(images)));

  // Whatever dtypes and layouts a dict holds come back as they were.
  state_dict mixed;
  mixed.insert("transposed", torch::arange(12, torch::kDouble).reshape({3, 4}).t());
  mixed.insert("flags", torch::tensor({true, false}));
  mixed.insert("large", torch::tensor(std::int64_t{1} << 40));
  mixed.insert("empty", torch::zeros({0, 3}));
  save_state_dict(mixed, dir / "mixed.pt");
  CHECK(same_entries(read_state_dict(dir / "mixed.pt"), mixed));
}

TEST_CASE("state dict errors name the file and the entry", "[serialization]") {
  auto dir = scratch("errors");
  auto gray = (dir / "gray.pt").string();
  save_state_dict(*resnet18(1, 10), gray);

  auto model = resnet18(3, 10);
  auto before = state_dict_of(*model)["bn1.weight"].clone();
  auto shape = error_of([&] { load_state_dict(*model, gray); });
  CHECK(shape.key() == "conv1.weight");
  CHECK(shape.source() == gray);
  CHECK_THAT(shape.what(), Catch::Contains(gray) && Catch::Contains("'conv1.weight'") &&
                               Catch::Contains("[64, 1, 7, 7]") &&
                               Catch::Contains("[64, 3, 7, 7]"));
  // Nothing was copied: the check runs before the first copy.
  CHECK(torch::equal(before, state_dict_of(*model)["bn1.weight"]));

  auto small = (dir / "resnet18.pt").string();
  save_state_dict(*resnet18(3, 10), small);
  auto missing = error_of([&] { load_state_dict(*resnet34(3, 10), small); });
  CHECK(missing.key() == "layer1.2.conv1.weight");
  CHECK_THAT(missing.what(), Catch::Contains("missing entry 'layer1.2.conv1.weight'"));

  auto large = (dir / "resnet34.pt").string();
  save_state_dict(*resnet34(3, 10), large);
  auto unexpected = error_of([&] { load_state_dict(*model, large); });
  CHECK(unexpected.key() == "layer1.2.conv1.weight");
  CHECK_THAT(unexpected.what(), Catch::Contains("unexpected entry 'layer1.2.conv1.weight'"));

  auto absent = error_of([&] { read_state_dict(dir / "absent.pt"); });
  CHECK_THAT(absent.what(), Catch::Contains("absent.pt") && Catch::Contains("no such file"));
  std::ofstream(dir / "text.pt") << "not a zip file";
  auto garbage = error_of([&] { read_state_dict(dir / "text.pt"); });
  CHECK_THAT(garbage.what(), Catch::Contains("text.pt"));
}

TEST_CASE("transfer learning: source backbone, fresh head, frozen backbone", "[transfer]") {
  auto dir = scratch("transfer");
  auto source = resnet18(3, 10);
  warm_up_batch_norm(*source, 3);
  save_state_dict(*source, dir / "source.pt");
  auto source_entries = state_dict_of(*source);

  auto model = transfer_model(make_builtin_model("resnet18", 3, 4), dir / "source.pt",
                              {.freeze_backbone = true});
  auto entries = state_dict_of(*model);
  CHECK(same_entries(entries, source_entries, /*skip_head=*/true));
  CHECK(entries["fc.weight"].sizes() == torch::IntArrayRef{4, 512});
  CHECK(entries["fc.bias"].sizes() == torch::IntArrayRef{4});
  CHECK(model->backbone_frozen());

  // Only the head trains; the frozen backbone's BatchNorm stays in eval mode.
  model->train();
  CHECK(model->is_training());
  for (const auto& m : model->named_modules("", false))
    if (m.value()->as<torch::nn::BatchNorm2d>()) CHECK_FALSE(m.value()->is_training());
  auto running_mean = entries["layer3.1.bn2.running_mean"].clone();
  model->forward(torch::randn({2, 3, 64, 64})).sum().backward();
  for (const auto& p : model->named_parameters()) {
    INFO(p.key());
    CHECK(p.value().requires_grad() == model->in_head(p.key()));
    CHECK(p.value().grad().defined() == model->in_head(p.key()));
  }
  CHECK(torch::equal(running_mean, state_dict_of(*model)["layer3.1.bn2.running_mean"]));

  model->freeze_backbone(false);
  CHECK(model->named_parameters()["conv1.weight"].requires_grad());
  CHECK(model->named_modules("", false)["bn1"]->is_training());

  // Without freezing everything trains; small_cnn's head is fc2.
  auto cnn_source = make_builtin_model("small_cnn", 1, 10);
  save_state_dict(*cnn_source, dir / "cnn.pt");
  auto cnn = transfer_model(make_builtin_model("small_cnn", 1, 3), dir / "cnn.pt");
  CHECK(same_entries(state_dict_of(*cnn_source), state_dict_of(*cnn)) == false);
  CHECK(torch::equal(state_dict_of(*cnn)["fc1.weight"], state_dict_of(*cnn_source)["fc1.weight"]));
  CHECK(state_dict_of(*cnn)["fc2.weight"].sizes() == torch::IntArrayRef{3, 128});
  CHECK(cnn->named_parameters()["conv1.weight"].requires_grad());

  // A user module's head is found the same way.
  auto user_source = make_user_model<tiny_net>(3, 4);
  save_state_dict(*user_source, dir / "user.pt");
  auto user =
      transfer_model(make_user_model<tiny_net>(3, 2), dir / "user.pt", {.freeze_backbone = true});
  CHECK(torch::equal(state_dict_of(*user)["conv.weight"],
                     state_dict_of(*user_source)["conv.weight"]));
  CHECK(state_dict_of(*user)["classifier.weight"].sizes() == torch::IntArrayRef{2, 8});
  CHECK_FALSE(user->named_parameters()["scale"].requires_grad());
  CHECK(user->named_parameters()["classifier.bias"].requires_grad());
}

TEST_CASE("transfer from a backbone of another shape names the entry and both shapes",
          "[transfer]") {
  auto dir = scratch("transfer_mismatch");
  save_state_dict(*resnet18(1, 10), dir / "gray.pt");
  auto error =
      error_of([&] { transfer_model(make_builtin_model("resnet18", 3, 4), dir / "gray.pt"); });
  CHECK(error.key() == "conv1.weight");
  CHECK_THAT(error.what(), Catch::Contains("gray.pt") && Catch::Contains("[64, 1, 7, 7]") &&
                               Catch::Contains("[64, 3, 7, 7]"));

  save_state_dict(*resnet50(3, 10), dir / "resnet50.pt");
  auto other =
      error_of([&] { transfer_model(make_builtin_model("resnet18", 3, 4), dir / "resnet50.pt"); });
  CHECK_THAT(other.what(), Catch::Contains("layer1.0.conv1.weight") &&
                               Catch::Contains("[64, 64, 1, 1]") &&
                               Catch::Contains("[64, 64, 3, 3]"));
}
