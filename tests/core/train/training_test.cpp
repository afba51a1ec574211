// Whole single-process runs of train_rank: small_cnn learns Fashion-MNIST; a run interrupted
// after its first checkpoint resumes to the uninterrupted run's parameters; the run folder's
// metrics, checkpoints and model.pt (read by Python); epochs full of corrupt samples; a diverging
// run.

#include <torch/torch.h>  // before Catch: LibTorch's glog would replace Catch's CHECK

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <iostream>
#include <set>
#include <stdexcept>
#include <string>

#include "train_support.hpp"
#include "trellis/core/data/holdout.hpp"
#include "trellis/core/models/make_model.hpp"
#include "trellis/core/train/trainer.hpp"

using namespace trellis::core;
using namespace trellis::core::testing;

namespace {
std::shared_ptr<classifier> small_cnn_with_seed(std::uint64_t seed) {
  torch::manual_seed(seed);
  return make_builtin_model("small_cnn", 1, 10);
}
}  // namespace

TEST_CASE("small_cnn reaches 0.75 val accuracy on Fashion-MNIST in one epoch of 10,000 images",
          "[accuracy]") {
  // 313 steps of SGD with a cosine decay; the same net in Python torch reaches 0.81-0.82.
  auto data = make_loaders(fashion_mnist(), 32, 10'000, 0);
  auto config = quick_config(run_dir("accuracy"));
  config.batch = 32;
  config.schedule = "cosine";
  config.log_every_steps = 80;
  const auto started = std::chrono::steady_clock::now();
  const auto result = train_rank(small_cnn_with_seed(1), data.train, data.val, nullptr, config);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << "[accuracy] val_accuracy " << result.val_accuracy << " val_loss " << result.val_loss
            << " on 10,000 test images, " << seconds << " s" << std::endl;
  CHECK(result.epochs == 1);
  CHECK(result.steps == 313);
  CHECK(result.val_accuracy >= 0.75);
}

TEST_CASE("a run interrupted after its first checkpoint resumes to the same parameters",
          "[resume]") {
  // small_cnn has dropout: equal parameters also need the random state back.
  const auto straight_dir = run_dir("resume_straight");
  auto config = quick_config(straight_dir);
  config.epochs = 2;
  config.schedule = "cosine";
  config.checkpoint_every = 1;
  config.log_every_steps = 8;
  config.batch = 32;

  auto straight = small_cnn_with_seed(7);
  auto a = make_loaders(fashion_mnist(), 32, 1024, 500);
  train_rank(straight, a.train, a.val, nullptr, config, quiet());

  config.run_dir = run_dir("resume_interrupted");
  {  // dies in its second epoch, after the first checkpoint
    auto b = make_loaders(fashion_mnist(), 32, 1024, 500);
    const progress_sink crash = [](const progress& p) {
      if (p.epoch == 2) throw std::runtime_error("simulated crash");
    };
    CHECK_THROWS_WITH(train_rank(small_cnn_with_seed(7), b.train, b.val, nullptr, config, crash),
                      "simulated crash");
  }
  REQUIRE(read_checkpoint(config.run_dir / "checkpoints" / "last.pt").info.epoch == 1);

  auto resumed = small_cnn_with_seed(99);  // other initial weights: the checkpoint's must win
  auto c = make_loaders(fashion_mnist(), 32, 1024, 500);
  const auto result = train_rank(resumed, c.train, c.val, nullptr, config, quiet());
  CHECK(result.resumed_epochs == 1);
  CHECK(result.epochs == 2);
  CHECK(result.steps == 64);
  const double difference = max_difference(*straight, *resumed);
  std::cout << "[resume] largest parameter difference " << difference << std::endl;
  CHECK(difference < 1e-6);
  // The interrupted epoch's lines were dropped and written again, once.
  CHECK(metric_names(config.run_dir / "metrics.jsonl") ==
        metric_names(straight_dir / "metrics.jsonl"));
}

TEST_CASE("the run folder: metrics.jsonl, checkpoints, and a model.pt Python reads", "[outputs]") {
  auto config = quick_config(run_dir("outputs"));
  config.epochs = 3;
  config.checkpoint_every = 1;
  config.select_best = "val_loss";
  config.log_every_steps = 8;
  config.optimizer = "adam";
  config.lr = 0.002;
  auto model = make_tiny_net();
  auto data = make_loaders(fashion_mnist(), 16, 512, 256);
  const auto result = train_rank(model, data.train, data.val, nullptr, config, quiet());
  const run_files files{config.run_dir};

  const auto names = metric_names(files.metrics);
  CHECK(std::set<std::string>(names.begin(), names.end()) ==
        std::set<std::string>{"train_loss", "train_accuracy", "lr", "images_per_s",
                              "rank_images_per_s", "val_loss", "val_accuracy", "skipped_samples"});
  const auto first = nlohmann::json::parse(lines_of(files.metrics).front());
  CHECK(first["epoch"] == 1);
  CHECK(first["step"] == 8);
  CHECK(first["name"] == "train_loss");
  CHECK(first["rank"] == 0);
  CHECK(first["value"].get<double>() > 0);
  CHECK(logged_values(files.metrics, "val_loss").size() == 3);
  CHECK(logged_values(files.metrics, "skipped_samples") == std::vector<double>{0, 0, 0});

  const auto last = read_checkpoint(files.last);
  CHECK(last.info.epoch == 3);
  CHECK(last.info.step == 96);
  CHECK(last.info.sampler.epoch == 2);
  CHECK(last.info.sampler.position == 512);
  CHECK(last.rng.size(0) == 1);
  CHECK_FALSE(std::filesystem::exists(files.last.string() + ".partial"));

  // model.pt holds the best epoch's weights (lowest val_loss), the ones best.pt keeps.
  const auto best = read_checkpoint(files.best);
  const auto losses = logged_values(files.metrics, "val_loss");
  CHECK(result.model_epoch == best.info.epoch);
  CHECK(best.info.val_loss == Approx(*std::min_element(losses.begin(), losses.end())));
  const auto saved = read_state_dict(files.model);
  REQUIRE(saved.size() == 4);
  for (const auto& item : saved) CHECK(torch::equal(item.value(), best.model[item.key()]));

  const std::string script =
      "import sys, torch\n"
      "m = torch.load(sys.argv[1], weights_only=True)\n"
      "assert list(m) == ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias'], list(m)\n"
      "assert tuple(m['fc1.weight'].shape) == (32, 784)\n"
      "c = torch.load(sys.argv[2], weights_only=True)\n"
      "assert int(c['trainer.epoch']) == 3 and c['optimizer'].dtype == torch.uint8\n"
      "assert torch.equal(m['fc2.bias'], torch.load(sys.argv[3], "
      "weights_only=True)['model.fc2.bias'])\n";
  const auto script_file = config.run_dir / "check.py";
  std::ofstream{script_file} << script;
  const std::string command = std::string(TRELLIS_PYTHON) + " " + script_file.string() + " " +
                              files.model.string() + " " + files.last.string() + " " +
                              files.best.string();
  CHECK(std::system(command.c_str()) == 0);

  config.epochs = 4;  // goes on from last.pt, with Adam's state
  auto more = make_loaders(fashion_mnist(), 16, 512, 256);
  const auto longer = train_rank(make_tiny_net(), more.train, more.val, nullptr, config, quiet());
  CHECK(longer.resumed_epochs == 3);
  CHECK(longer.steps == 128);
  CHECK(read_checkpoint(files.last).info.epoch == 4);
}

TEST_CASE("batches emptied by skip_corrupt train without NaN and are counted", "[empty]") {
  // 7 of 8 samples are corrupt: with batches of 2, about 3 in 4 micro-batches are empty.
  const auto& fashion = fashion_mnist();
  dataset_splits splits{std::make_shared<corrupting_source>(fashion.train, 8),
                        std::make_shared<corrupting_source>(fashion.val, 8), fashion.class_names,
                        nullptr};
  auto data = make_loaders(splits, 2, 256, 64, 0, 1, /*skip_corrupt=*/true);
  auto config = quick_config(run_dir("empty"));
  config.batch = 2;
  config.accumulate = 2;
  config.checkpoint_every = 1;
  auto model = make_tiny_net();
  const auto result = train_rank(model, data.train, data.val, nullptr, config, quiet());
  for (const auto& p : model->parameters()) CHECK(torch::isfinite(p).all().item<bool>());
  CHECK(std::isfinite(result.val_loss));
  const run_files files{config.run_dir};
  CHECK(logged_values(files.metrics, "skipped_samples") == std::vector<double>{224 + 56});
  // A report window without a single sample has no loss (null); the others are finite.
  const auto losses = logged_values(files.metrics, "train_loss");
  CHECK(std::count_if(losses.begin(), losses.end(), [](double v) { return std::isfinite(v); }) > 0);
  CHECK(std::none_of(losses.begin(), losses.end(), [](double v) { return std::isinf(v); }));
}

TEST_CASE("a validation split held out of the training data: stratified, seeded, disjoint",
          "[holdout]") {
  const auto& data = fashion_mnist();
  const auto [train, val] = hold_out(data.train, 0.1, 3);
  CHECK(val->size() == 6000);
  CHECK(train->size() + val->size() == data.train->size());
  std::vector<int> per_class(10, 0);
  for (std::size_t i = 0; i < val->size(); ++i)
    ++per_class[static_cast<std::size_t>(val->label(i))];
  CHECK(per_class == std::vector<int>(10, 600));  // Fashion-MNIST has 6,000 of each class
  // The same seed holds out the same samples, another seed others; none is in both parts.
  const auto again = hold_out(data.train, 0.1, 3).second;
  const auto other = hold_out(data.train, 0.1, 4).second;
  bool same = true, differs = false;
  for (std::size_t i = 0; i < val->size(); ++i) {
    same = same && torch::equal(val->image(i), again->image(i));
    differs = differs || !torch::equal(val->image(i), other->image(i));
  }
  CHECK(same);
  CHECK(differs);
  const auto& kept = std::dynamic_pointer_cast<const subset_source>(train)->indices();
  const auto& out = std::dynamic_pointer_cast<const subset_source>(val)->indices();
  std::vector<std::size_t> both;
  std::set_intersection(kept.begin(), kept.end(), out.begin(), out.end(), std::back_inserter(both));
  CHECK(both.empty());
  // A count holds out exactly that many, spread over the classes.
  CHECK(hold_out(data.train, 1234, 0).second->size() == 1234);
  CHECK_THROWS_WITH(hold_out(data.train, 1.5, 0), Catch::Contains("val_split 1.5"));
  CHECK_THROWS_WITH(hold_out(data.train, 60000, 0), Catch::Contains("below the 60000"));
}

TEST_CASE("the test split is evaluated once, on the selected weights, with its confusion matrix",
          "[test_split]") {
  const auto& data = fashion_mnist();
  const auto [train, val] = hold_out(data.train, 500, 1);
  const dataset_splits splits{train, val, data.class_names, data.val};
  auto loaders = make_loaders(splits, 32, 1024, 0);
  loader_options test_options;
  test_options.batch_size = 64;
  test_options.workers = 1;
  test_options.subset = 0;
  loader test{splits.test, test_options};
  const auto dir = run_dir("test_split");
  auto config = quick_config(dir);
  config.epochs = 3;
  config.class_names = data.class_names;
  auto model = make_tiny_net();
  train_rank(*model, loaders.train, loaders.val, nullptr, config, quiet(), &test);

  const auto summary = nlohmann::json::parse(std::ifstream(dir / "outputs" / "summary.json"));
  const auto& counts = summary["test_confusion"]["counts"];
  REQUIRE(counts.size() == 10);
  std::int64_t total = 0, diagonal = 0;
  for (std::size_t t = 0; t < 10; ++t)
    for (std::size_t p = 0; p < 10; ++p) {
      total += counts[t][p].get<std::int64_t>();
      if (t == p) diagonal += counts[t][p].get<std::int64_t>();
    }
  CHECK(total == 10000);  // every t10k image once
  const double accuracy = summary["metrics"]["test_accuracy"].get<double>();
  CHECK(accuracy == Approx(static_cast<double>(diagonal) / 10000.0));
  CHECK(summary["test_confusion"]["classes"][3] == "3");
  // The test metrics are logged once, and they are those of model.pt, whatever the last epoch was.
  CHECK(logged_values(dir / "metrics.jsonl", "test_accuracy") == std::vector<double>{accuracy});
  auto reloaded = make_tiny_net(99);
  load_state_dict(*reloaded, dir / "outputs" / "model.pt");
  CHECK(evaluate(*reloaded, test, nullptr, c10::kCPU).accuracy == Approx(accuracy).epsilon(1e-12));
  const auto selected = summary["selected_epoch"].get<std::size_t>();
  CHECK(summary["metrics"]["val_accuracy"].get<double>() ==
        Approx(logged_values(dir / "metrics.jsonl", "val_accuracy").at(selected - 1)));
}

TEST_CASE("a loss that stops being finite fails the run, naming the epoch and step, and writes "
          "no model",
          "[diverged]") {
  // A learning rate this large throws the weights to infinity within a few steps; the losses
  // after that are inf or NaN, and any model.pt written from them would be NaN throughout.
  auto data = make_loaders(fashion_mnist(), 16, 640, 64);
  auto config = quick_config(run_dir("diverged"));
  config.lr = 1e30;
  config.log_every_steps = 5;
  auto model = make_tiny_net();
  try {
    train_rank(model, data.train, data.val, nullptr, config, quiet());
    FAIL("training diverged without an error");
  } catch (const training_diverged& e) {
    const std::string message = e.what();
    INFO(message);
    CHECK_THAT(message, Catch::Contains("training loss is"));
    CHECK_THAT(message, Catch::Matches(R"(.*at epoch 1, step \d+ \(learning rate 1e\+30\).*)"));
    CHECK_THAT(message, Catch::Contains("lower train.lr"));
  }
  CHECK_FALSE(std::filesystem::exists(run_files{config.run_dir}.model));
}
