// DDP core tests that need no LibTorch in this translation unit: rank_env parsing, the process
// utility, and multi-process jobs of ddp_worker (equivalence with one large-batch process,
// BatchNorm, unused parameters, faults). Ranks run as 2 nodes x 2 processes on loopback Gloo.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "trellis/core/ddp/rank_env.hpp"
#include "trellis/core/process/child.hpp"
#include "trellis/core/process/wait_any.hpp"
#include "free_port.hpp"
#include "run_captured.hpp"
#include "text_file.hpp"

namespace fs = std::filesystem;
namespace ddp = trellis::core::ddp;
namespace process = trellis::core::process;
using namespace std::chrono_literals;
using trellis::core::testing::free_port;
using trellis::core::testing::read_text;
using trellis::core::testing::run_captured;

namespace {

ddp::env_lookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

std::map<std::string, std::string> torch_vars() {
  return {
      {"MASTER_ADDR", "10.0.0.4"}, {"MASTER_PORT", "29500"},  {"WORLD_SIZE", "8"}, {"RANK", "5"},
      {"LOCAL_RANK", "1"},         {"LOCAL_WORLD_SIZE", "4"}, {"NODE_RANK", "1"}};
}

std::string error_of(const std::map<std::string, std::string>& vars) {
  try {
    ddp::read_rank_env(env_of(vars));
  } catch (const ddp::rank_env_error& e) {
    return e.what();
  }
  return "(no error)";
}

/// Running or sleeping; a zombie waiting for init to reap it counts as gone.
bool alive(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string pid_field, name, state;
  return stat >> pid_field >> name >> state && state != "Z" && state != "X";
}

std::vector<float> read_floats(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<float> v(fs::file_size(p) / sizeof(float));
  in.read(reinterpret_cast<char*>(v.data()),
          static_cast<std::streamsize>(v.size() * sizeof(float)));
  return v;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(double(a[i]) - double(b[i])));
  return m;
}

fs::path work_dir(const std::string& name) {
  auto dir = fs::path(TRELLIS_DDP_WORK_DIR) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

struct job {
  fs::path dir;
  std::vector<process::exit_status> status;
  std::vector<std::string> logs;
  std::string all_logs() const {
    std::string s;
    for (std::size_t r = 0; r < logs.size(); ++r)
      s += "--- rank " + std::to_string(r) + " (" + status[r].describe() + ")\n" + logs[r];
    return s;
  }
  fs::path out(int rank) const { return dir / ("rank_" + std::to_string(rank) + ".bin"); }
};

enum class launch_style { torch, mpi };

/// Starts `world` ranks of ddp_worker (`per_node` per node) and waits for `expected_exits` of them
/// (default: all); the rest are stopped (SIGTERM, then SIGKILL) after that or at `limit`.
job run_ranks(const std::string& name, int world, int per_node,
              const std::vector<std::string>& worker_args,
              std::optional<int> expected_exits = std::nullopt, std::chrono::seconds limit = 240s,
              launch_style style = launch_style::torch) {
  job j{work_dir(name), {}, {}};
  const std::string port = std::to_string(free_port());
  std::vector<process::child> ranks;
  for (int r = 0; r < world; ++r) {
    process::spawn_request req;
    req.argv = {TRELLIS_DDP_WORKER, "--out=" + j.out(r).string()};
    req.argv.insert(req.argv.end(), worker_args.begin(), worker_args.end());
    req.env = {{"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", port}, {"OMP_NUM_THREADS", "1"}};
    const std::string p = style == launch_style::mpi ? "OMPI_COMM_WORLD_" : "";
    req.env[p + (style == launch_style::mpi ? "SIZE" : "WORLD_SIZE")] = std::to_string(world);
    req.env[p + "RANK"] = std::to_string(r);
    req.env[p + "LOCAL_RANK"] = std::to_string(r % per_node);
    req.env[p + (style == launch_style::mpi ? "LOCAL_SIZE" : "LOCAL_WORLD_SIZE")] =
        std::to_string(per_node);
    if (style == launch_style::torch) req.env["NODE_RANK"] = std::to_string(r / per_node);
    req.log = j.dir / ("rank_" + std::to_string(r) + ".log");
    ranks.push_back(process::child::spawn(req));
  }
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int ended = 0;
  while (ended < expected_exits.value_or(world) && std::chrono::steady_clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (process::wait_any(ranks, left)) ++ended;
  }
  process::stop_all(ranks, 1s);
  for (int r = 0; r < world; ++r) {
    j.status.push_back(*ranks[r].status());
    j.logs.push_back(read_text(j.dir / ("rank_" + std::to_string(r) + ".log")));
  }
  return j;
}

/// The one-process reference run on the data of `ranks` ranks at once.
std::vector<float> reference(const fs::path& dir, int ranks,
                             const std::vector<std::string>& worker_args,
                             const std::string& tag = "reference") {
  process::spawn_request req;
  req.argv = {TRELLIS_DDP_WORKER, "--reference-ranks=" + std::to_string(ranks),
              "--out=" + (dir / (tag + ".bin")).string()};
  req.argv.insert(req.argv.end(), worker_args.begin(), worker_args.end());
  req.log = dir / (tag + ".log");
  const auto run = run_captured(req);
  INFO(run.output);
  REQUIRE(run.status.success());
  return read_floats(dir / (tag + ".bin"));
}

struct comparison {
  double max_diff = 0;  ///< largest |rank - reference| over every rank's parameters and buffers
  int buckets = 0;
  std::string transport;  ///< how rank 0's buckets were reduced: shared-memory or c10d
};

int bucket_count(const std::string& log) {
  std::smatch m;
  REQUIRE(std::regex_search(log, m, std::regex("buckets=([0-9]+)")));
  return std::stoi(m[1]);
}

/// Runs the job and compares every rank's final state with the one-process reference.
comparison ddp_vs_reference(const std::string& name, const std::vector<std::string>& worker_args,
                            int world = 4, int per_node = 2,
                            launch_style style = launch_style::torch) {
  auto j = run_ranks(name, world, per_node, worker_args, std::nullopt, 240s, style);
  INFO(j.all_logs());
  for (const auto& s : j.status) REQUIRE(s.success());
  const auto ref = reference(j.dir, world, worker_args);
  std::smatch transport;
  REQUIRE(std::regex_search(j.logs[0], transport, std::regex("transport=([a-z0-9-]+)")));
  comparison c{0, bucket_count(j.logs[0]), transport[1]};
  for (int r = 0; r < world; ++r)
    c.max_diff = std::max(c.max_diff, max_abs_diff(read_floats(j.out(r)), ref));
  std::cout << name << ": " << world << " ranks, " << c.buckets
            << " bucket(s), max abs difference from the "
            << "one-process reference = " << c.max_diff << " (" << c.transport << ")" << std::endl;
  return c;
}

}  // namespace

TEST_CASE("rank_env reads the torchrun / Azure ML variables", "[rank_env]") {
  auto r = ddp::read_rank_env(env_of(torch_vars()));
  CHECK(r.master_addr == "10.0.0.4");
  CHECK(r.master_port == 29500);
  CHECK(r.world_size == 8);
  CHECK(r.rank == 5);
  CHECK(r.local_rank == 1);
  CHECK(r.local_world_size == 4);
  CHECK(r.node_rank == 1);
  CHECK(r.source == ddp::rank_source::torch_env);
  CHECK_FALSE(r.use_agent_store);
  CHECK(ddp::has_rank_env(env_of(torch_vars())));
  CHECK_FALSE(ddp::has_rank_env(env_of({{"MASTER_ADDR", "x"}})));

  SECTION("defaults: one node; torchrun's GROUP_RANK as the node rank") {
    auto vars = torch_vars();
    vars.erase("LOCAL_WORLD_SIZE");
    vars.erase("NODE_RANK");
    auto one_node = ddp::read_rank_env(env_of(vars));
    CHECK(one_node.local_world_size == 8);
    CHECK(one_node.node_rank == 0);
    vars["LOCAL_WORLD_SIZE"] = "4";
    vars["GROUP_RANK"] = "1";
    CHECK(ddp::read_rank_env(env_of(vars)).node_rank == 1);
  }
  SECTION("torchrun --no-python: the agent's store") {
    auto vars = torch_vars();
    vars["TORCHELASTIC_USE_AGENT_STORE"] = "True";
    vars["TORCHELASTIC_RESTART_COUNT"] = "2";
    auto agent = ddp::read_rank_env(env_of(vars));
    CHECK(agent.use_agent_store);
    CHECK(agent.restart_count == 2);
  }
}

TEST_CASE("rank_env reads mpirun's OMPI_COMM_WORLD_* variables", "[rank_env]") {
  auto r = ddp::read_rank_env(env_of({{"OMPI_COMM_WORLD_RANK", "3"},
                                      {"OMPI_COMM_WORLD_SIZE", "4"},
                                      {"OMPI_COMM_WORLD_LOCAL_RANK", "1"},
                                      {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"},
                                      {"MASTER_ADDR", "node0"},
                                      {"MASTER_PORT", "6105"}}));
  CHECK(r.source == ddp::rank_source::mpi);
  CHECK(r.rank == 3);
  CHECK(r.world_size == 4);
  CHECK(r.local_rank == 1);
  CHECK(r.local_world_size == 2);
  CHECK(r.node_rank == 1);
  CHECK(r.master_addr == "node0");
  CHECK(r.master_port == 6105);
  CHECK_THAT(error_of({{"OMPI_COMM_WORLD_RANK", "0"}, {"OMPI_COMM_WORLD_SIZE", "2"}}),
             Catch::Contains("OMPI_COMM_WORLD_LOCAL_RANK is not set"));
}

TEST_CASE("rank_env errors name the variable", "[rank_env]") {
  auto without = [](const std::string& name) {
    auto v = torch_vars();
    v.erase(name);
    return error_of(v);
  };
  auto with = [](const std::string& name, const std::string& value) {
    auto v = torch_vars();
    v[name] = value;
    return error_of(v);
  };
  for (const char* name : {"MASTER_ADDR", "MASTER_PORT", "WORLD_SIZE", "LOCAL_RANK"})
    CHECK_THAT(without(name), Catch::Contains(std::string(name) + " is not set"));
  CHECK_THAT(with("RANK", "two"), Catch::Contains("RANK='two' is not an integer"));
  CHECK_THAT(with("WORLD_SIZE", "8x"), Catch::Contains("WORLD_SIZE='8x' is not an integer"));
  CHECK_THAT(with("RANK", "8"), Catch::Contains("RANK=8 is outside 0..7"));
  CHECK_THAT(with("LOCAL_RANK", "4"), Catch::Contains("LOCAL_RANK=4 is outside 0..3"));
  CHECK_THAT(with("MASTER_PORT", "70000"),
             Catch::Contains("MASTER_PORT=70000 is outside 1..65535"));
  CHECK_THAT(with("NODE_RANK", "2"), Catch::Contains("NODE_RANK=2 is outside 0..1"));
  CHECK_THAT(with("MASTER_ADDR", ""), Catch::Contains("MASTER_ADDR is empty"));
}

TEST_CASE("process: spawn with environment and log, exit codes, signals, groups", "[process]") {
  const auto dir = work_dir("process");
  process::spawn_request req;
  req.argv = {"sh", "-c", "echo out=$TRELLIS_X; echo err >&2; exit 3"};
  req.env = {{"TRELLIS_X", "42"}};
  req.log = dir / "a.log";
  auto status = process::child::spawn(req).wait();
  CHECK(status.code == 3);
  CHECK(status.describe() == "exited with code 3");
  CHECK(read_text(req.log) == "out=42\nerr\n");

  SECTION("wait_any reports the first to end; killing a group takes its grandchildren too") {
    std::vector<process::child> kids;
    // The sleeper starts a grandchild in its group and records its pid.
    req.argv = {"sh", "-c", "sleep 30 & echo $! > " + (dir / "grandchild.pid").string() + "; wait"};
    kids.push_back(process::child::spawn(req));
    req.argv = {"sh", "-c", "kill -9 $$"};
    req.log = dir / "b.log";
    kids.push_back(process::child::spawn(req));
    auto first = process::wait_any(kids, 10s);
    REQUIRE(first == 1u);
    CHECK(kids[1].status()->signal == 9);
    CHECK(kids[1].status()->describe().starts_with("killed by signal 9"));
    CHECK_FALSE(process::wait_any(kids, 50ms));  // the sleeper is still running
    while (!fs::exists(dir / "grandchild.pid") || read_text(dir / "grandchild.pid").empty())
      usleep(10000);
    const int grandchild = std::stoi(read_text(dir / "grandchild.pid"));
    CHECK(alive(grandchild));
    process::stop_all(kids, 2s);
    CHECK_FALSE(kids[0].running());
    CHECK(kids[0].status()->signal == SIGTERM);
    usleep(200000);
    CHECK_FALSE(alive(grandchild));  // not left behind
  }
  SECTION("a program that does not exist") {
    req.argv = {"/nonexistent/trellis-worker"};
    CHECK_THROWS_WITH(process::child::spawn(req),
                      Catch::Contains("cannot start '/nonexistent/trellis-worker'"));
  }
}

TEST_CASE("DDP equals one process with the global batch: MLP, several buckets, no_sync",
          "[equivalence]") {
  // 1 KiB / 4 KiB caps give the four layers a bucket each; the head is registered first, so its
  // bucket completes first but launches last. Step 2 accumulates two micro-batches under no_sync.
  auto c = ddp_vs_reference("mlp", {"--model=mlp", "--steps=6", "--batch=4", "--no-sync-step=2",
                                    "--first-bucket=1024", "--bucket=4096"});
  CHECK(c.buckets == 4);
  CHECK(c.max_diff < 1e-5);
}

TEST_CASE("DDP equals one process with the global batch: CNN, default buckets, no_sync",
          "[equivalence]") {
  auto c = ddp_vs_reference("cnn", {"--model=cnn", "--steps=5", "--batch=6", "--no-sync-step=3"});
  CHECK(c.buckets == 1);
  CHECK(c.max_diff < 1e-5);
}

TEST_CASE("DDP with parameters unused on some ranks or on all", "[equivalence]") {
  // `aux` runs only on rank step % 4, `dead` never: nothing hangs and the average treats a
  // missing gradient as zero, which is what the reference's mean over slices computes.
  const std::vector<std::string> a{"--model=partly_used", "--steps=5", "--batch=4",
                                   "--first-bucket=4096", "--bucket=4096"};
  for (int find_unused : {0, 1}) {
    auto args = a;
    args.push_back("--find-unused=" + std::to_string(find_unused));
    CHECK(ddp_vs_reference("partly_used_" + std::to_string(find_unused), args).max_diff < 1e-5);
  }
}

TEST_CASE("DDP with world size 1 and with mpirun-style variables", "[equivalence]") {
  const std::vector<std::string> a{"--model=mlp", "--steps=4", "--batch=4"};
  CHECK(ddp_vs_reference("world1", a, 1, 1).max_diff ==
        0.0);  // nothing to synchronise: bit for bit
  auto micro = a;
  micro.emplace_back("--no-sync-step=1");
  CHECK(ddp_vs_reference("world1_no_sync", micro, 1, 1).max_diff < 1e-6);
  CHECK(ddp_vs_reference("mpi", micro, 2, 1, launch_style::mpi).max_diff < 1e-5);
}

TEST_CASE("DDP on one host: buckets reduced through shared memory equal the reference", "[host]") {
  // Several buckets, a no_sync micro-batch, and 2, 3 and 4 ranks (slices of uneven length).
  const std::vector<std::string> mlp{"--model=mlp",      "--steps=6",           "--batch=4",
                                     "--no-sync-step=2", "--first-bucket=1024", "--bucket=4096"};
  for (int world : {2, 3, 4}) {
    auto c = ddp_vs_reference("host_mlp_" + std::to_string(world), mlp, world, world);
    CHECK(c.transport == "shared-memory");
    CHECK(c.buckets == 4);
    CHECK(c.max_diff < 1e-5);
  }
  auto cnn = ddp_vs_reference("host_cnn",
                              {"--model=cnn", "--steps=5", "--batch=6", "--no-sync-step=3"}, 2, 2);
  CHECK(cnn.transport == "shared-memory");
  CHECK(cnn.max_diff < 1e-5);
  auto unused = ddp_vs_reference("host_partly_used",
                                 {"--model=partly_used", "--steps=5", "--batch=4",
                                  "--first-bucket=4096", "--bucket=4096", "--find-unused=1"},
                                 2, 2);
  CHECK(unused.transport == "shared-memory");
  CHECK(unused.max_diff < 1e-5);
  // Turned off, the same job goes through Gloo; ranks on several hosts always do.
  auto off = mlp;
  off.emplace_back("--host-allreduce=0");
  CHECK(ddp_vs_reference("host_gloo", off, 2, 2).transport == "c10d");
  CHECK(ddp_vs_reference("two_hosts", mlp, 2, 1).transport == "c10d");
}

// trellis::core's ResNet-18 when the models part is present, else a small BatchNorm CNN.
#if __has_include("trellis/core/models/resnet.hpp")
constexpr const char* batch_norm_model = "resnet18";
#else
constexpr const char* batch_norm_model = "bn_cnn";
#endif

TEST_CASE("DDP with BatchNorm (ResNet-18 at 32x32, float64)", "[batchnorm]") {
  // Each rank normalises with its own slice's batch statistics (no SyncBatchNorm), so the
  // reference runs the four slices separately and averages their losses; buffers follow rank 0,
  // as the broadcast before each synced forward makes them (one batch of 16 differs by ~0.9).
  // float64, because in float32 this run is chaotic: BatchNorm over 4 values per channel in
  // layer4 amplifies rounding so much that the float32 reference itself differs from the float64
  // one by 0.056 after 3 steps (DDP float32 vs reference float32: 0.045; after 1 step: 3e-8).
  // In float64 what remains is the float32 rounding of the dumped values (measured 3.7e-9).
  const std::vector<std::string> a{std::string("--model=") + batch_norm_model,
                                   "--image-side=32",
                                   "--steps=3",
                                   "--batch=4",
                                   "--lr=0.02",
                                   "--float64=1"};
  std::cout << "batchnorm model: " << batch_norm_model << std::endl;
  CHECK(ddp_vs_reference("batchnorm", a).max_diff < 1e-6);
}

TEST_CASE("DDP fault: a rank dies or stops mid-run; the others' collectives throw in time",
          "[fault]") {
  constexpr int timeout_ms = 5000;
  struct fault_case {
    const char* kind;
    int rank;
    int expected_signal;  // what the launcher sees for the faulty rank (0: exit code 7)
  };
  // 2 hosts x 2 ranks (Gloo) and 1 host x 4 ranks (shared memory).
  const int per_node = GENERATE(2, 4);
  for (auto f : {fault_case{"sigkill", 1, SIGKILL}, fault_case{"exit", 3, 0},
                 fault_case{"sigstop", 2, SIGKILL}}) {
    // A stopped rank keeps its sockets open and its process alive, so only the timeout can end
    // the others' wait; the launcher then SIGKILLs it.
    const bool stopped = std::string(f.kind) == "sigstop";
    const auto start = std::chrono::steady_clock::now();
    auto j = run_ranks(std::string("fault_") + f.kind + "_" + std::to_string(per_node), 4, per_node,
                       {"--model=mlp", "--steps=50", "--batch=4", "--fault=" + std::string(f.kind),
                        "--fault-rank=" + std::to_string(f.rank), "--fault-step=3",
                        "--timeout-ms=" + std::to_string(timeout_ms)},
                       stopped ? 3 : 4, 120s);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    INFO(f.kind << " on rank " << f.rank << "\n" << j.all_logs());
    CHECK(j.status[f.rank].signal == f.expected_signal);
    if (f.expected_signal == 0) CHECK(j.status[f.rank].code == 7);
    for (int r = 0; r < 4; ++r) {
      if (r == f.rank) continue;
      CHECK(j.status[r].code == 3);
      std::smatch m;
      REQUIRE(std::regex_search(j.logs[r], m, std::regex("collective_error after ([0-9.]+) ms")));
      const double waited = std::stod(m[1]);
      CHECK(waited < 3 * timeout_ms);
      if (!stopped)
        CHECK(waited < timeout_ms);  // a peer that is gone is noticed before the timeout
      std::cout << "fault " << f.kind << " on rank " << f.rank << " (" << per_node
                << " ranks per host): rank " << r << " threw after " << waited << " ms"
                << std::endl;
    }
    std::cout << "fault " << f.kind << ": job over in " << seconds << " s" << std::endl;
  }
}

TEST_CASE("a MASTER_ADDR that does not resolve fails every rank within the collective timeout",
          "[address]") {
  const auto dir = work_dir("address");
  std::vector<process::child> ranks;
  for (int r = 0; r < 2; ++r)
    ranks.push_back(process::child::spawn(
        {{TRELLIS_DDP_WORKER, "--out=" + (dir / "unused.bin").string(), "--timeout-ms=3000"},
         {{"MASTER_ADDR", "not.an.ip"}, {"MASTER_PORT", std::to_string(free_port())},
          {"WORLD_SIZE", "2"}, {"RANK", std::to_string(r)}, {"LOCAL_RANK", std::to_string(r)}},
         dir / ("rank_" + std::to_string(r) + ".log"),
         false}));
  const auto start = std::chrono::steady_clock::now();
  for (int ended = 0; ended < 2 && std::chrono::steady_clock::now() - start < 60s;)
    if (process::wait_any(ranks, 1s)) ++ended;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  process::stop_all(ranks, 1s);
  for (int r = 0; r < 2; ++r) {
    const auto log = read_text(dir / ("rank_" + std::to_string(r) + ".log"));
    INFO("rank " << r << " after " << seconds << " s:\n" << log);
    CHECK(ranks[r].status()->code == 2);
    CHECK_THAT(log, Catch::Contains("MASTER_ADDR 'not.an.ip' does not resolve"));
  }
  CHECK(seconds < 20);  // the resolver's own limit, or the 3 s timeout: not the 5 min join
}

TEST_CASE("a collective that times out names the rank it waited for, on both paths", "[timeout]") {
  constexpr int timeout_ms = 3000;
  struct stop_case {
    int stopped;      // the rank that stops (SIGSTOP) at step 3
    int host_allreduce;
    const char* expected;  // in the other rank's error
  };
  for (const auto c : {stop_case{1, 1, "waiting for rank 1 (pid "},  // shared memory
                       stop_case{1, 0, "waiting for rank 1, which has not started this collective"},
                       stop_case{0, 0, "rank 0, which hosts the store, does not answer either"}}) {
    const int waiting = 1 - c.stopped;
    auto j = run_ranks(
        "timeout_" + std::to_string(c.stopped) + "_" + std::to_string(c.host_allreduce), 2, 2,
        {"--model=mlp", "--steps=20", "--batch=4", "--fault=sigstop",
         "--fault-rank=" + std::to_string(c.stopped), "--fault-step=3",
         "--timeout-ms=" + std::to_string(timeout_ms),
         "--host-allreduce=" + std::to_string(c.host_allreduce)},
        1, 120s);
    INFO("rank " << c.stopped << " stopped, host_allreduce=" << c.host_allreduce << "\n"
                 << j.all_logs());
    CHECK(j.status[waiting].code == 3);
    std::smatch m;
    REQUIRE(
        std::regex_search(j.logs[waiting], m, std::regex("collective_error after ([0-9.]+) ms")));
    CHECK(std::stod(m[1]) < 3 * timeout_ms);
    CHECK_THAT(j.logs[waiting], Catch::Contains(c.expected));
  }
}

TEST_CASE("speed: ResNet-18 64x64 batch 32, 2 ranks x 1 thread, synced vs no_sync", "[.bench]") {
  auto j = run_ranks("bench", 2, 2,
                     {"--mode=bench", "--model=resnet18", "--image-side=64", "--batch=32"},
                     std::nullopt, 900s);
  std::cout << j.all_logs();
  for (const auto& s : j.status) CHECK(s.success());
}
