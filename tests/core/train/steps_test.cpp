// The parts of a step: learning-rate schedules (as functions and as logged), a front-end stage
// as a train_config, accumulation against a larger batch, and two ranks (threads of this process,
// over Gloo) against one rank with their combined batch; and the host memory a rank keeps.

#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <torch/torch.h>  // before Catch: LibTorch's glog would replace Catch's CHECK
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <memory>
#include <numbers>
#include <thread>

#include "free_port.hpp"
#include "train_support.hpp"
#include "trellis/backends/stage_config/train.hpp"
#include "trellis/core/ddp/process_group.hpp"
#include "trellis/core/process/host_memory.hpp"
#include "trellis/core/train/trainer.hpp"

using namespace trellis::core;
using namespace trellis::core::testing;

namespace {

/// Runs `body(rank, group)` on two threads, each a rank of one Gloo group; rethrows an error.
template <class Body>
void on_two_ranks(Body body) {
  const auto port = free_port();
  std::array<std::exception_ptr, 2> errors;
  std::array<std::thread, 2> threads;
  for (int r = 0; r < 2; ++r)
    threads[static_cast<std::size_t>(r)] = std::thread([&, r] {
      try {
        ddp::rank_env env;
        env.master_addr = "127.0.0.1";
        env.master_port = port;
        env.world_size = 2;
        env.rank = env.local_rank = r;
        env.local_world_size = 2;
        ddp::group_options options;
        options.timeout = std::chrono::seconds(60);
        body(r, std::make_shared<ddp::process_group>(env, options));
      } catch (...) {
        errors[static_cast<std::size_t>(r)] = std::current_exception();
      }
    });
  for (auto& t : threads) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace

TEST_CASE("learning-rate schedules", "[schedule]") {
  train_config c;
  c.lr = 0.1;
  c.epochs = 12;
  c.schedule = "constant";
  CHECK(learning_rate(c, {11, 900, 1000}) == 0.1);

  c.schedule = "step";  // x0.1 after 4 and 8 of 12 epochs
  CHECK(learning_rate(c, {0, 0, 1200}) == Approx(0.1));
  CHECK(learning_rate(c, {3, 399, 1200}) == Approx(0.1));
  CHECK(learning_rate(c, {4, 400, 1200}) == Approx(0.01));
  CHECK(learning_rate(c, {8, 800, 1200}) == Approx(0.001));
  CHECK(learning_rate(c, {11, 1199, 1200}) == Approx(0.001));
  c.epochs = 10;  // periods of ceil(10 / 3) = 4 epochs
  CHECK(learning_rate(c, {8, 0, 1}) == Approx(0.001));
  CHECK(learning_rate(c, {9, 0, 1}) == Approx(0.001));

  c.schedule = "cosine";
  CHECK(learning_rate(c, {0, 0, 100}) == Approx(0.1));
  CHECK(learning_rate(c, {5, 50, 100}) == Approx(0.05));
  CHECK(learning_rate(c, {7, 75, 100}) ==
        Approx(0.1 * (1 + std::cos(0.75 * std::numbers::pi)) / 2));
  CHECK(learning_rate(c, {9, 100, 100}) == Approx(0.0).margin(1e-12));

  SECTION("the trainer logs the rate each step used") {
    auto config = quick_config(run_dir("schedule"));
    config.epochs = 3;
    config.schedule = "step";  // one epoch per period
    config.lr = 0.2;
    config.log_every_steps = 1;
    auto model = make_tiny_net();
    auto data = make_loaders(fashion_mnist(), 16, 64, 16);
    train_rank(model, data.train, data.val, nullptr, config, quiet());
    const auto rates = logged_values(config.run_dir / "metrics.jsonl", "lr");
    REQUIRE(rates.size() == 12);
    CHECK(rates[3] == Approx(0.2));
    CHECK(rates[4] == Approx(0.02));
    CHECK(rates[11] == Approx(0.002));

    config.schedule = "cosine";
    config.run_dir = run_dir("cosine");
    train_rank(make_tiny_net(), data.train, data.val, nullptr, config, quiet());
    const auto cosine = logged_values(config.run_dir / "metrics.jsonl", "lr");
    REQUIRE(cosine.size() == 12);
    for (std::size_t s = 0; s < 12; ++s)
      CHECK(cosine[s] ==
            Approx(0.1 * (1 + std::cos(std::numbers::pi * static_cast<double>(s) / 12))));
  }
}

TEST_CASE("train_config_for takes a train stage's parameters and fields", "[config]") {
  using stage_t = trellis::train<trellis::models::small_cnn, trellis::epochs<12>, trellis::adam,
                                 trellis::global_batch<256>, trellis::checkpoint_every<3>,
                                 trellis::select_best<"val_loss">>;
  stage_t stage{.lr = 0.001, .seed = 4, .schedule = "step", .accumulate = 2, .threads = 3};
  const auto c = trellis::backends::train_config_for(stage, 4);
  CHECK(c.epochs == 12);
  CHECK(c.optimizer == "adam");
  CHECK(c.lr == 0.001);
  CHECK(c.batch == 64);
  CHECK(c.seed == 4);
  CHECK(c.schedule == "step");
  CHECK(c.accumulate == 2);
  CHECK(c.threads == 3);
  CHECK(c.checkpoint_every == 3);
  CHECK(c.select_best == "val_loss");
  CHECK(c.transfer_from.empty());
  CHECK_NOTHROW(check_config(c));

  const auto plain =
      trellis::backends::train_config_for(trellis::train<trellis::models::small_cnn>{.batch = 48});
  CHECK(plain.batch == 48);
  CHECK(plain.optimizer == "sgd");
  CHECK(plain.schedule == "cosine");
  CHECK(plain.select_best == "val_accuracy");

  auto bad = plain;
  bad.schedule = "linear";
  CHECK_THROWS_WITH(check_config(bad), Catch::Contains("schedule 'linear'"));
}

TEST_CASE("accumulate 2 x batch 16 gives the parameters of batch 32", "[accumulate]") {
  auto config = quick_config(run_dir("accumulate_2"));
  config.epochs = 2;
  config.schedule = "cosine";
  auto accumulated = make_tiny_net(), large = make_tiny_net();
  auto small_batches = make_loaders(fashion_mnist(), 16, 1024, 64);
  config.accumulate = 2;
  const auto a =
      train_rank(accumulated, small_batches.train, small_batches.val, nullptr, config, quiet());

  config.run_dir = run_dir("accumulate_1");
  config.accumulate = 1;
  config.batch = 32;
  auto large_batches = make_loaders(fashion_mnist(), 32, 1024, 64);
  const auto b =
      train_rank(large, large_batches.train, large_batches.val, nullptr, config, quiet());
  CHECK(a.steps == 64);
  CHECK(b.steps == 64);
  const double difference = max_difference(*accumulated, *large);
  INFO("largest parameter difference " << difference);
  CHECK(difference < 1e-5);
  CHECK(max_difference(*accumulated, *make_tiny_net()) > 1e-2);  // it did train
}

TEST_CASE("two ranks of batch 16 match one rank of batch 32; checkpoints and resume", "[ranks]") {
  auto config = quick_config(run_dir("ranks_1"));
  config.epochs = 2;
  config.schedule = "cosine";
  config.batch = 32;
  auto single = make_tiny_net();
  auto one = make_loaders(fashion_mnist(), 32, 1024, 301);
  const auto reference = train_rank(single, one.train, one.val, nullptr, config, quiet());

  config.run_dir = run_dir("ranks_2");
  config.checkpoint_every = 1;
  config.accumulate = 2;  // no_sync for the first micro-batch of 8 ...
  config.batch = 8;       // ... so each rank's step is 16 samples
  // Built before the threads: both would seed LibTorch's one generator at once.
  std::array<std::shared_ptr<tiny_net>, 2> models{make_tiny_net(3), make_tiny_net(11)};
  std::array<train_result, 2> results;
  std::array<evaluation, 2> evaluations;
  on_two_ranks([&](int rank, std::shared_ptr<ddp::process_group> group) {
    const auto r = static_cast<std::size_t>(rank);
    auto data = make_loaders(fashion_mnist(), 8, 1024, 301, r, 2);
    results[r] = train_rank(models[r], data.train, data.val, group, config, quiet());
    evaluations[r] = evaluate(*models[r], data.val, group.get(), config.device);
  });
  CHECK(max_difference(*models[0], *models[1]) == 0.0);
  const double difference = max_difference(*models[0], *single);
  INFO("largest difference to one rank " << difference);
  CHECK(difference < 1e-5);
  CHECK(results[0].steps == 64);
  CHECK(results[1].val_loss == results[0].val_loss);
  CHECK(results[0].val_loss == Approx(reference.val_loss).epsilon(1e-4));
  // 301 samples over 2 ranks: 151 each, rank 1's last one padding, counted once.
  CHECK(evaluations[0].count == 301);
  CHECK(evaluations[1].count == 301);
  CHECK(evaluations[0].loss == Approx(reference.val_loss).epsilon(1e-4));
  CHECK(results[1].model_file.empty());
  CHECK(read_checkpoint(config.run_dir / "checkpoints" / "last.pt").rng.size(0) == 2);

  config.epochs = 3;  // the same folder again: both ranks resume after epoch 2
  models = {make_tiny_net(5), make_tiny_net(5)};
  on_two_ranks([&](int rank, std::shared_ptr<ddp::process_group> group) {
    const auto r = static_cast<std::size_t>(rank);
    auto data = make_loaders(fashion_mnist(), 8, 1024, 301, r, 2);
    results[r] = train_rank(models[r], data.train, data.val, group, config, quiet());
  });
  CHECK(results[0].resumed_epochs == 2);
  CHECK(results[1].resumed_epochs == 2);
  CHECK(results[0].steps == 96);
  CHECK(max_difference(*models[0], *models[1]) == 0.0);
}

TEST_CASE("two ranks with empty batches from skip_corrupt stay in step", "[ranks]") {
  const auto& fashion = fashion_mnist();
  dataset_splits splits{std::make_shared<corrupting_source>(fashion.train, 8),
                        std::make_shared<corrupting_source>(fashion.val, 8), fashion.class_names,
                        nullptr};
  auto config = quick_config(run_dir("ranks_empty"));
  config.batch = 2;
  config.accumulate = 2;
  std::array<std::shared_ptr<tiny_net>, 2> models{make_tiny_net(), make_tiny_net()};
  on_two_ranks([&](int rank, std::shared_ptr<ddp::process_group> group) {
    const auto r = static_cast<std::size_t>(rank);
    auto data = make_loaders(splits, 2, 256, 63, r, 2, /*skip_corrupt=*/true);
    train_rank(models[r], data.train, data.val, group, config, quiet());
  });
  CHECK(max_difference(*models[0], *models[1]) == 0.0);
  for (const auto& p : models[0]->parameters()) CHECK(torch::isfinite(p).all().item<bool>());
  CHECK(logged_values(config.run_dir / "metrics.jsonl", "skipped_samples") ==
        std::vector<double>{224 + 55});
}

TEST_CASE("a rank reuses the host memory it frees instead of faulting it in again",
          "[host_memory]") {
  // 48 MiB: above glibc's largest mmap threshold, so by default each allocation of it is a new
  // mapping whose every page faults in again.
  constexpr long block = 48l << 20, page = 4096;
  const auto fill_and_free = [] {
    auto* bytes =
        static_cast<volatile unsigned char*>(std::malloc(static_cast<std::size_t>(block)));
    REQUIRE(bytes != nullptr);
    for (long i = 0; i < block; i += page) bytes[i] = 1;
    std::free(const_cast<unsigned char*>(bytes));
  };
  const auto page_faults = [] {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    return usage.ru_minflt;
  };

  ::setenv("MALLOC_TRIM_THRESHOLD_", "131072", 1);  // the user's choice is left alone
  CHECK_FALSE(process::keep_freed_host_memory());
  ::unsetenv("MALLOC_TRIM_THRESHOLD_");
  ::setenv("GLIBC_TUNABLES", "glibc.malloc.mmap_max=4", 1);
  CHECK_FALSE(process::keep_freed_host_memory());
  ::unsetenv("GLIBC_TUNABLES");

  REQUIRE(process::keep_freed_host_memory());
  fill_and_free();  // the heap grows once
  const auto before = page_faults();
  for (int i = 0; i < 5; ++i) fill_and_free();
  // 5 x 12,288 pages were touched; without kept memory each of them faults.
  CHECK(page_faults() - before < block / page / 10);
}
