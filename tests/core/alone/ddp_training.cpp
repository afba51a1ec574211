// A two-rank DDP training through trellis/core alone, as a C++ code base without the pipeline
// language writes it: no front-end header is in this translation unit (checked below). Started
// without rank variables, the program starts itself twice as the ranks (RANK, WORLD_SIZE,
// LOCAL_RANK, MASTER_ADDR, MASTER_PORT) and then checks what they did: both finished, their
// weights ended equal, outputs/model.pt holds the model, validation accuracy is well above chance.
// Usage: core_ddp_training FASHION_MNIST_DIR WORK_DIR
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trellis/core/data/loader.hpp"
#include "trellis/core/data/open.hpp"
#include "trellis/core/ddp/process_group.hpp"
#include "trellis/core/ddp/rank_env.hpp"
#include "trellis/core/models/make_model.hpp"
#include "trellis/core/process/child.hpp"
#include "trellis/core/process/wait_any.hpp"
#include "trellis/core/serialization/state_dict.hpp"
#include "trellis/core/train/config.hpp"
#include "trellis/core/train/trainer.hpp"

// Every stage, parameter and model tag of the front end includes params/param.hpp, which defines
// TRELLIS_KIND: if it is defined here, the pipeline language came in through trellis/core.
#ifdef TRELLIS_KIND
#error "trellis/core included the pipeline language (trellis/params/param.hpp)"
#endif

namespace fs = std::filesystem;
namespace core = trellis::core;
using namespace std::chrono_literals;

namespace {

constexpr int world_size = 2;
constexpr std::size_t train_images = 2048;  // of Fashion-MNIST's 60,000: the run takes seconds
constexpr double chance = 0.1;              // ten classes

fs::path rank_weights(const fs::path& work, int rank) {
  return work / fmt::format("rank_{}.pt", rank);
}

/// One rank: joins the group, opens its shard of a Fashion-MNIST subset, trains small_cnn.
int run_rank(const fs::path& data, const fs::path& work) {
  const auto env = core::ddp::read_rank_env();
  try {
    core::ddp::group_options group_options;
    group_options.backend = core::ddp::backend_kind::gloo;
    auto group = std::make_shared<core::ddp::process_group>(env, group_options);

    core::dataset_options dataset;
    dataset.kind = core::dataset_kind::idx;
    dataset.root = data;
    dataset.classes = 10;
    dataset.val_split = 1000;
    const auto splits = core::open_dataset(dataset);

    core::train_config config;
    config.epochs = 2;
    config.optimizer = "adam";
    config.lr = 2e-3;
    config.batch = 32;
    config.log_every_steps = 16;
    config.run_dir = work;

    auto loader_options = [&](bool training) {
      core::loader_options o;
      o.batch_size = config.batch;
      o.rank = static_cast<std::size_t>(env.rank);
      o.world_size = static_cast<std::size_t>(env.world_size);
      o.subset = training ? train_images : 0;
      o.workers = 1;
      o.sample.training = training;
      o.sample.seed = config.seed;
      o.sample.shape = {1, 28, 28};
      return o;
    };
    core::loader train_data(splits.train, loader_options(true));
    core::loader val_data(splits.val, loader_options(false));

    auto model = core::make_builtin_model("small_cnn", 1, 10, {28, 28});
    const auto result = core::train_rank(model, train_data, val_data, group, config);
    core::save_state_dict(*model, rank_weights(work, env.rank));
    fmt::print("rank {} finished: {} epochs, {} steps, val accuracy {:.3f}\n", env.rank,
               result.epochs, result.steps, result.val_accuracy);
    return 0;
  } catch (const std::exception& e) {
    fmt::print("rank {}: error: {}\n", env.rank, e.what());
    return 1;
  }
}

/// A port nobody listens on now: bind port 0 and let the kernel choose.
std::string free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw std::runtime_error("cannot find a free port");
  ::close(fd);
  return std::to_string(ntohs(addr.sin_port));
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Starts the ranks and waits for them; a rank that fails stops its peer at once instead of
/// leaving it to wait out its collective timeout.
std::vector<core::process::child> run_ranks(const fs::path& data, const fs::path& work) {
  const std::string port = free_port();
  std::vector<core::process::child> ranks;
  for (int rank = 0; rank < world_size; ++rank) {
    core::process::spawn_request request;
    request.argv = {fs::read_symlink("/proc/self/exe").string(), data.string(), work.string()};
    request.env = {{"RANK", std::to_string(rank)},
                   {"LOCAL_RANK", std::to_string(rank)},
                   {"WORLD_SIZE", std::to_string(world_size)},
                   {"MASTER_ADDR", "127.0.0.1"},
                   {"MASTER_PORT", port},
                   {"OMP_NUM_THREADS", "1"}};
    request.log = work / fmt::format("rank_{}.log", rank);
    ranks.push_back(core::process::child::spawn(request));
  }
  const auto deadline = std::chrono::steady_clock::now() + 300s;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    const auto ended = core::process::wait_any(ranks, left);
    if (!ended || !ranks[*ended].status()->success()) break;  // all done, timed out, or failed
  }
  core::process::stop_all(ranks, 2s);
  return ranks;
}

/// What the ranks left behind, as a list of what is wrong (empty: all is well).
std::vector<std::string> check_job(std::vector<core::process::child>& ranks, const fs::path& work) {
  std::vector<std::string> problems;
  for (int rank = 0; rank < world_size; ++rank) {
    const auto& status = ranks[static_cast<std::size_t>(rank)].status();
    const auto log = read_text(work / fmt::format("rank_{}.log", rank));
    if (!status || !status->success() ||
        log.find(fmt::format("rank {} finished", rank)) == std::string::npos)
      problems.push_back(fmt::format("rank {} did not finish ({}):\n{}", rank,
                                     status ? status->describe() : "still running", log));
  }
  if (!problems.empty()) return problems;

  const auto first = core::read_state_dict(rank_weights(work, 0));
  const auto second = core::read_state_dict(rank_weights(work, 1));
  if (first.keys() != second.keys()) problems.push_back("the ranks' models have different entries");
  for (const auto& entry : first) {
    const auto* other = second.find(entry.key());
    if (other && !torch::equal(entry.value(), *other))
      problems.push_back(fmt::format("the ranks' '{}' differ", entry.key()));
  }

  const fs::path model_file = work / "outputs" / "model.pt";
  if (!fs::exists(model_file)) {
    problems.push_back("no outputs/model.pt");
    return problems;
  }
  core::load_state_dict(*core::make_builtin_model("small_cnn", 1, 10, {28, 28}), model_file);

  const auto summary = nlohmann::json::parse(read_text(work / "outputs" / "summary.json"));
  const double accuracy = summary.at("metrics").at("val_accuracy").get<double>();
  fmt::print("2 ranks trained small_cnn on {} images: val accuracy {:.3f}, epoch {} of {}\n",
             train_images, accuracy, summary.at("selected_epoch").get<int>(),
             summary.at("epochs").get<int>());
  if (!(accuracy > 4 * chance))
    problems.push_back(
        fmt::format("val accuracy {:.3f} is not well above chance ({})", accuracy, chance));
  return problems;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    fmt::print(stderr, "usage: {} FASHION_MNIST_DIR WORK_DIR\n", argv[0]);
    return 2;
  }
  const fs::path data = argv[1], work = argv[2];
  if (core::ddp::has_rank_env()) return run_rank(data, work);

  fs::remove_all(work);
  fs::create_directories(work);
  auto ranks = run_ranks(data, work);
  const auto problems = check_job(ranks, work);
  for (const auto& problem : problems) fmt::print(stderr, "FAILED: {}\n", problem);
  if (problems.empty()) fmt::print("both ranks finished with equal weights; model.pt written\n");
  return problems.empty() ? 0 : 1;
}
