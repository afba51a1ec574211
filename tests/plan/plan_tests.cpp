// The run plan: rank maps, backend choice and local rehearsal, machine checks on real
// folders and sockets, and the JSON a dry run writes.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string_view>
#include <nlohmann/json.hpp>
#include <utility>
#include <trellis/main.hpp>
#include <trellis/trellis.hpp>

#include "temp_dir.hpp"

using namespace trellis;
namespace fs = std::filesystem;

namespace {
cli::options opts(std::string backend = "") {
  cli::options o;
  o.program = "test";
  o.backend = std::move(backend);
  o.workspace = (fs::temp_directory_path() / "trellis-plan-ws").string();
  return o;
}

plan::machine_check find_check(const plan::run_plan& p, const std::string& name) {
  for (const auto& c : p.checks)
    if (c.name == name) return c;
  FAIL("no check named " << name);
  throw;
}

/// A dataset folder whose "images" are placeholders: the layout check reads names only.
struct dataset_dir : trellis::test::temp_dir {
  void image(const std::string& rel) const {
    fs::create_directories((path / rel).parent_path());
    std::ofstream(path / rel) << "x";
  }
};

/// A socket listening on a loopback port the kernel chose (SO_REUSEADDR, as a rendezvous's).
std::pair<int, sockaddr_in> listening_socket() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  const int on = 1;
  REQUIRE(::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  socklen_t len = sizeof sa;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0);
  REQUIRE(::listen(fd, 1) == 0);
  return {fd, sa};
}

template <std::size_t N>
auto folder_pipeline(const fs::path& root) {
  return dataset<image_folder, classes<N>, input_shape<3, 32, 32>>{.root = root.c_str()} |
         train<models::resnet18>{};
}
}  // namespace

TEST_CASE("rank map: nodes x procs, node-major, one device per rank") {
  auto p = dataset<idx, classes<10>>{.root = "/usr/share/datasets/fashion-mnist", .val_split = 0.1}
         | compute<local::cpu>{}
         | distributed<PyTorch, nodes<2>, procs<3>>{}
         | train<models::small_cnn>{};
  const auto plan = plan::make_plan(p, opts());
  REQUIRE(plan.ranks.size() == 6);
  for (std::size_t g = 0; g < 6; ++g) {
    CHECK(plan.ranks[g].global_rank == g);
    CHECK(plan.ranks[g].node == g / 3);
    CHECK(plan.ranks[g].local_rank == g % 3);
    CHECK(plan.ranks[g].device == "cpu");
  }
  CHECK(plan.backend == plan::backend_kind::local);
  CHECK(plan.collective == plan::collective_kind::gloo);
}

TEST_CASE("backend follows the compute target; --backend=local rehearses an Azure job") {
  auto p = dataset<idx, classes<10>>{.root = "/usr/share/datasets/fashion-mnist", .val_split = 0.1}
         | environment<curated::pytorch_cuda>{}
         | compute<azure::nc48ads_a100_v4>{}
         | distributed<PyTorch, nodes<2>, procs<2>>{}
         | train<models::resnet18>{}
         | register_model<"birds">{};
  const auto cloud = plan::make_plan(p, opts());
  CHECK(cloud.backend == plan::backend_kind::azure);
  CHECK(cloud.collective == plan::collective_kind::nccl);
  CHECK(cloud.ranks[3].device == "cuda:1");  // node 1, local rank 1
  CHECK(cloud.mode == "azure: 2 x Standard_NC48ads_A100_v4 in cluster 'trellis-gpu'");
  CHECK(cloud.not_carried_out.empty());  // the local backend is the one that leaves it undone

  const auto rehearsal = plan::make_plan(p, opts("local"));
  CHECK(rehearsal.backend == plan::backend_kind::local);
  if (plan::local_gpu_count() >= 4) {
    CHECK(rehearsal.collective == plan::collective_kind::nccl);
    CHECK(rehearsal.ranks[3].device == "cuda:3");  // all nodes share this machine
  } else {
    CHECK(rehearsal.collective == plan::collective_kind::gloo);
    CHECK(rehearsal.ranks[3].device == "cpu");
    CHECK_THAT(rehearsal.mode, Catch::Contains("Gloo on CPU instead of NCCL"));
  }
  CHECK(rehearsal.not_carried_out.empty());  // it registers its model
  CHECK(rehearsal.ok());
}

TEST_CASE("local::cuda needs as many GPUs as ranks on this machine") {
  auto p = dataset<idx, classes<10>>{.root = "/usr/share/datasets/fashion-mnist", .val_split = 0.1}
         | compute<local::cuda<gpus<8>>>{}
         | distributed<PyTorch, nodes<2>, procs<4>>{}
         | train<models::small_cnn>{};
  const auto plan = plan::make_plan(p, opts());
  const auto& c = find_check(plan, "local.gpus");
  CHECK(c.ok == (plan::local_gpu_count() >= 8));
  CHECK_THAT(c.detail, Catch::Contains("8 ranks need as many GPUs; this machine has " +
                                       std::to_string(plan::local_gpu_count())));
  CHECK(plan.ranks[7].device == "cuda:7");
}

TEST_CASE("dataset checks name the folder that is wrong") {
  dataset_dir d;
  SECTION("missing split") {
    d.image("train/cat/1.png");
    const auto c =
        find_check(plan::make_plan(folder_pipeline<1 + 1>(d.path), opts()), "dataset.layout");
    CHECK_FALSE(c.ok);
    CHECK_THAT(c.detail, Catch::Contains((d.path / "val").string() + "' is not a folder"));
  }
  SECTION("classes differ between splits") {
    d.image("train/cat/1.png");
    d.image("train/dog/1.png");
    d.image("val/cat/1.png");
    d.image("val/owl/1.png");
    const auto c =
        find_check(plan::make_plan(folder_pipeline<2>(d.path), opts()), "dataset.layout");
    CHECK_FALSE(c.ok);
    CHECK_THAT(c.detail, Catch::Contains("class 'dog' is in '" + (d.path / "train").string()));
  }
  SECTION("class count differs from classes<N>") {
    for (auto cls : {"a", "b", "c"}) {
      d.image(std::string{"train/"} + cls + "/1.png");
      d.image(std::string{"val/"} + cls + "/1.png");
    }
    const auto c =
        find_check(plan::make_plan(folder_pipeline<5>(d.path), opts()), "dataset.layout");
    CHECK_FALSE(c.ok);
    CHECK_THAT(c.detail, Catch::Contains("has 3 class folders, the pipeline says classes<5>"));
    CHECK(find_check(plan::make_plan(folder_pipeline<3>(d.path), opts()), "dataset.layout").ok);
  }
  SECTION("an empty class folder") {
    d.image("train/a/1.png");
    d.image("train/b/1.png");
    d.image("val/a/1.png");
    fs::create_directories(d.path / "val" / "b");
    const auto c =
        find_check(plan::make_plan(folder_pipeline<2>(d.path), opts()), "dataset.layout");
    CHECK_FALSE(c.ok);
    CHECK_THAT(c.detail, Catch::Contains((d.path / "val" / "b").string() + "' has no images"));
  }
  SECTION("IDX files") {
    auto p = dataset<idx, classes<10>>{.root = d.path.c_str(), .val_split = 0.1} |
             train<models::small_cnn>{};
    const auto missing = find_check(plan::make_plan(p, opts()), "dataset.layout");
    CHECK_FALSE(missing.ok);
    CHECK_THAT(missing.detail, Catch::Contains("train-images-idx3-ubyte' (or .gz) is missing"));
    // IDX files have no validation split: one held out of train is needed, as a share or count.
    auto own = dataset<idx, classes<10>>{.root = "/usr/share/datasets/fashion-mnist"} |
               train<models::small_cnn>{};
    CHECK_THAT(find_check(plan::make_plan(own, opts()), "dataset.layout").detail,
               Catch::Contains("IDX files have no validation split of their own") &&
                   Catch::Contains("--set dataset.val_split=0.1"));
    get<stage_order::dataset>(own).val_split = 2.5;
    CHECK_THAT(find_check(plan::make_plan(own, opts()), "dataset.layout").detail,
               Catch::Contains("dataset.val_split = 2.5") &&
                   Catch::Contains("neither a fraction between 0 and 1 nor a whole number"));
    auto fashion =
        dataset<idx, classes<10>>{.root = "/usr/share/datasets/fashion-mnist", .val_split = 0.1} |
        train<models::small_cnn>{};
    CHECK(find_check(plan::make_plan(fashion, opts()), "dataset.layout").ok);
  }
}

TEST_CASE("a rendezvous port in use fails the plan and says how to change it") {
  const auto [fd, sa] = listening_socket();
  const auto port = ntohs(sa.sin_port);

  auto p = dataset<idx, classes<10>>{.root = "/usr/share/datasets/fashion-mnist", .val_split = 0.1}
         | compute<local::cpu>{}
         | distributed<PyTorch, nodes<1>, procs<2>>{.master_port = port}
         | train<models::small_cnn>{};
  const auto busy = plan::make_plan(p, opts());
  CHECK_FALSE(busy.ok());
  CHECK_THAT(find_check(busy, "rendezvous.port").detail,
             Catch::Contains(std::to_string(port) + " is in use") &&
                 Catch::Contains("--set distributed.master_port=N"));
  ::close(fd);
  CHECK(plan::make_plan(p, opts()).ok());
}

TEST_CASE("a port that a closed connection left in TIME_WAIT is free; a listening one is not") {
  const auto [listener, sa] = listening_socket();
  const auto port = ntohs(sa.sin_port);
  const auto loopback = posix::resolve_host("127.0.0.1", std::chrono::seconds(1));
  REQUIRE(loopback.ok());
  CHECK_FALSE(posix::port_is_free(loopback, port));  // listening

  // A real connection, closed by the server's side first: that side's socket stays in
  // TIME_WAIT on the port for a minute, as a rendezvous's does after a run.
  const int client = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(::connect(client, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == 0);
  const int served = ::accept(listener, nullptr, nullptr);
  REQUIRE(served >= 0);
  ::close(listener);
  ::close(served);
  char byte;
  CHECK(::read(client, &byte, 1) == 0);  // the server's FIN arrived
  ::close(client);
  std::string states;
  for (int tries = 0; tries < 50 && states.find(" 06 ") == std::string::npos; ++tries) {
    std::ifstream tcp("/proc/net/tcp");  // sl local rem st: 06 is TIME_WAIT
    char hex[8];
    std::snprintf(hex, sizeof hex, ":%04X ", port);
    for (std::string line; std::getline(tcp, line);)
      if (line.find(hex) != std::string::npos && line.find(hex) < 20) states += line.substr(33, 4);
  }
  REQUIRE_THAT(states, Catch::Contains(" 06 "));
  CHECK(posix::port_is_free(loopback, port));

  auto p = dataset<idx, classes<10>>{.root = "/usr/share/datasets/fashion-mnist"}
         | compute<local::cpu>{}
         | distributed<PyTorch, nodes<1>, procs<2>>{.master_port = port}
         | train<models::small_cnn>{};
  CHECK(find_check(plan::make_plan(p, opts()), "rendezvous.port").ok);
}

TEST_CASE("master_addr must resolve to this machine: the plan says no, naming the field") {
  auto p = dataset<idx, classes<10>>{.root = "/usr/share/datasets/fashion-mnist", .val_split = 0.1}
         | compute<local::cpu>{}
         | distributed<PyTorch, nodes<1>, procs<2>>{.master_addr = "not.an.ip"}
         | train<models::small_cnn>{};
  const auto start = std::chrono::steady_clock::now();
  const auto unknown = plan::make_plan(p, opts());
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(31));  // timeout_s
  CHECK_FALSE(unknown.ok());
  CHECK_THAT(find_check(unknown, "rendezvous.address").detail,
             Catch::Contains("distributed.master_addr 'not.an.ip' does not resolve") &&
                 Catch::Contains("--set distributed.master_addr=127.0.0.1"));
  // A documentation address (RFC 5737) resolves but is no address of this machine.
  get<stage_order::distributed>(p).master_addr = "192.0.2.1";
  const auto elsewhere = plan::make_plan(p, opts());
  CHECK_FALSE(elsewhere.ok());
  CHECK_THAT(find_check(elsewhere, "rendezvous.address").detail,
             Catch::Contains("'192.0.2.1' (192.0.2.1) is not an address of this machine"));
  get<stage_order::distributed>(p).master_addr = "localhost";
  {
    // A port nobody holds (the default one may be another run's), for the plan to pass.
    const auto [fd, sa] = listening_socket();
    get<stage_order::distributed>(p).master_port = ntohs(sa.sin_port);
    ::close(fd);
  }
  const auto here = plan::make_plan(p, opts());
  CHECK(find_check(here, "rendezvous.address").ok);
  CHECK(here.ok());
}

TEST_CASE("settings outside their limits fail the plan, each named with its value") {
  auto p =
      dataset<idx, classes<10>, input_shape<1, 28, 28>>{.root =
                                                            "/usr/share/datasets/fashion-mnist"} |
      compute<local::cpu>{} | distributed<PyTorch, nodes<1>, procs<2>>{} |
      train<models::small_cnn, epochs<1>, sgd>{};
  CHECK(plan::check_settings(p).empty());
  CHECK(find_check(plan::make_plan(p, opts()), "settings").ok);
  auto& t = get<stage_order::train>(p);
  auto& d = get<stage_order::dataset>(p);
  auto& dist = get<stage_order::distributed>(p);
  t.batch = 0;
  t.lr = -1;
  t.momentum = 1;
  t.weight_decay = std::numeric_limits<double>::quiet_NaN();  // the braces can hold one
  t.schedule = "linear";
  t.accumulate = 0;
  t.threads = 5000;
  d.workers = 300;
  d.prefetch = 0;
  d.transform.std[1] = 0;
  d.transform.crop = 32;
  d.transform.gray_to_rgb = true;
  dist.timeout_s = 0;
  dist.master_port = 0;
  const auto problems = plan::check_settings(p);
  const std::vector<std::string> expected{
      "dataset.prefetch=0: must be from 1 to 1024",
      "dataset.workers=300: must be from 0 to 256",
      "dataset.transform.std=0.229,0,0.225: must be above 0",
      "dataset.transform.crop=32: makes 32x32 images, but input_shape<1, 28, 28> needs 28x28",
      "dataset.transform.gray_to_rgb=true: makes 3 channels, but input_shape<1, 28, 28> has 1",
      "distributed.master_port=0: must be from 1 to 65535",
      "distributed.timeout_s=0: must be from 1 to 86400",
      "train.lr=-1: must be at least 0",
      "train.batch=0: must be from 1 to 1048576",
      "train.momentum=1: must be from 0 to 1 (excluded)",
      "train.weight_decay=nan: must be a finite number",
      "train.schedule=linear: must be constant, step or cosine",
      "train.accumulate=0: must be from 1 to 4096",
      "train.threads=5000: must be from 0 to 1024"};
  for (const auto& line : expected) CHECK_THAT(problems, Catch::VectorContains(line));
  CHECK(problems.size() == expected.size());
  const auto plan = plan::make_plan(p, opts());
  CHECK_FALSE(plan.ok());
  CHECK(plan.checks.front().name == "settings");
  CHECK_THAT(plan.checks.front().detail, Catch::Contains("train.lr=-1: must be at least 0") &&
                                             Catch::Contains("--set stage.field=value"));
  CHECK_THROWS_WITH(plan::require_valid_settings(p),
                    Catch::StartsWith("[trellis] settings: ") &&
                        Catch::Contains("distributed.timeout_s=0: must be from 1 to 86400"));
}

TEST_CASE("global_batch<N> sets each rank's batch: the plan records it, --set cannot change it") {
  auto p = dataset<idx, classes<10>>{.root = "/usr/share/datasets/fashion-mnist"}
         | compute<local::cpu>{}
         | distributed<PyTorch, nodes<2>, procs<2>>{}
         | train<models::small_cnn, adam, global_batch<128>>{.batch = 0};
  const auto plan = plan::make_plan(p, opts());
  CHECK(find_check(plan, "settings").ok);  // the braces' batch is not used
  CHECK(plan.batch_per_rank == 32);
  const auto j = nlohmann::json::parse(plan::plan_json(p, plan));
  CHECK(j["topology"]["batch_per_rank"] == 32);
  CHECK_FALSE(j["stages"][3]["settings"].contains("batch"));
  CHECK_FALSE(j["stages"][3]["settings"].contains("momentum"));  // adam has none
  CHECK_THAT(plan::plan_summary(plan),
             Catch::Contains("batch     32 per rank (128 over all ranks)"));
}

TEST_CASE("plan JSON stays JSON: bytes that are not UTF-8 and numbers JSON cannot hold") {
  plan::json_writer out;
  out.begin_object()
      .key("path").value(std::string_view{"/data/caf\xE9/\xC3\xA9t\xC3\xA9"})
      .key("cut").value(std::string_view{"\xE2\x82"})
      .key("nan").value(std::numeric_limits<double>::quiet_NaN())
      .key("inf").value(-std::numeric_limits<double>::infinity())
      .key("max").value(std::numeric_limits<double>::max())
      .end_object();
  const auto j = nlohmann::json::parse(out.str());
  CHECK(j["path"] == "/data/caf\uFFFD/\u00E9t\u00E9");  // Latin-1 byte replaced, UTF-8 kept
  CHECK(j["cut"] == "\uFFFD\uFFFD");
  CHECK(j["nan"].is_null());
  CHECK(j["inf"].is_null());
  CHECK(j["max"] == std::numeric_limits<double>::max());
}

TEST_CASE("plan JSON: valid, complete and the same bytes every time") {
  auto p =
      dataset<idx, classes<10>, input_shape<1, 28, 28>>{.root = "/usr/share/datasets/fashion-mnist",
                                                        .val_split = 0.1} |
      environment<custom<"fashion-env">, cuda<12, 1>, with_mpi>{.pip = {"torchvision", "onnx"}} |
      compute<local::cpu>{} | distributed<Horovod, nodes<2>, procs<1>>{} |
      train<models::small_cnn, epochs<2>>{.lr = 0.5} |
      register_model<"fashion-base">{.tags = {{"team", "vision \"x\""}}} | export_onnx<opset<13>>{};
  const auto plan = plan::make_plan(p, opts());
  const auto text = plan::plan_json(p, plan);
  CHECK(text == plan::plan_json(p, plan::make_plan(p, opts())));

  const auto j = nlohmann::json::parse(text);
  CHECK(j["backend"] == "local");
  CHECK(j["topology"]["framework"] == "Mpi");
  CHECK(j["topology"]["world_size"] == 2);
  REQUIRE(j["stages"].size() == 7);
  CHECK(j["stages"][0]["type"]["input_shape"] == nlohmann::json::array({1, 28, 28}));
  CHECK(j["stages"][1]["type"]["cuda"] == "12.1");
  CHECK(j["stages"][1]["settings"]["pip"] == nlohmann::json::array({"torchvision", "onnx"}));
  CHECK(j["stages"][4]["settings"]["lr"] == 0.5);
  CHECK(j["stages"][5]["settings"]["tags"]["team"] == "vision \"x\"");
  CHECK(j["stages"][6]["type"]["opset"] == 13);
  REQUIRE(j["ranks"].size() == 2);
  CHECK(j["ranks"][1]["node"] == 1);
  CHECK(j["checks"][0]["check"] == "settings");
  CHECK(j["checks"][1]["check"] == "dataset.layout");
  CHECK(j["transfer_from"].is_null());
  // The local backend carries out every stage.
  CHECK(j["not_carried_out"] == nlohmann::json::array());
  CHECK_THAT(plan::plan_summary(plan), !Catch::Contains("not done"));
}
