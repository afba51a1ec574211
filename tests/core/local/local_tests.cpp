// The local backend end to end, with real processes and real Gloo: every launch mode trains a
// few steps with the right rank variables; a killed rank stops the job and is named; a restart
// resumes from the checkpoint; a corrupt image is named; torchrun --no-python runs the worker.
// Hardening: two runs on one port, the first failing rank named in every mode, no orphan after
// the driver is killed, a full disk, --resume, and the same weights from the same seed.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>
#include <trellis/core/process/child.hpp>
#include <trellis/core/train/metric_record.hpp>

#include "free_port.hpp"
#include "run_captured.hpp"
#include "small_disk.hpp"
#include "text_file.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using trellis::core::testing::free_port;
using trellis::core::testing::read_text;
using trellis::core::testing::run_captured;
using trellis::core::testing::small_disk;
namespace process = trellis::core::process;

namespace {

struct job {
  std::string name;
  fs::path dir;
  std::uint16_t port = free_port();
  process::child driver;
  fs::path output;
  fs::path workspace;

  /// `label` names the job's folder (default: the job's name); a --workspace in `extra` wins
  /// over the job's own.
  explicit job(std::string which, std::map<std::string, std::string> env = {},
               std::vector<std::string> extra = {}, const std::string& label = "")
      : name(std::move(which)),
        dir(fs::path{TRELLIS_LOCAL_WORK_DIR} / (label.empty() ? name : label)),
        output(dir / "driver.log"),
        workspace(dir / "ws") {
    fs::remove_all(dir);
    fs::create_directories(dir);
    env["TRELLIS_TEST_JOB"] = name;
    for (const auto& arg : extra)
      if (arg.starts_with("--workspace=")) workspace = arg.substr(12);
    std::vector<std::string> argv{TRELLIS_LOCAL_JOB, "--workspace=" + (dir / "ws").string(),
                                  "--set=distributed.master_port=" + std::to_string(port),
                                  "--set=distributed.timeout_s=20"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    driver = process::child::spawn({argv, env, output, false});
  }
  process::exit_status wait(std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline)
      if (auto s = driver.try_wait())
        return *s;
      else
        std::this_thread::sleep_for(50ms);
    driver.signal_group(SIGKILL);
    FAIL("the driver of " << name << " did not finish within " << limit.count() << " s:\n"
                          << read_text(output));
    return {};
  }
  fs::path run(int n = 1) const { return workspace / "runs" / ("local-test_" + std::to_string(n)); }
  std::string rank_log(int r, int n = 1) const {
    return read_text(run(n) / "logs" / ("rank_" + std::to_string(r) + ".log"));
  }
  std::string out() const { return read_text(output); }
  /// The id of the run this driver created ("local-test_2"), from its output.
  std::string run_id() const {
    std::smatch m;
    const auto text = out();
    return std::regex_search(text, m, std::regex(R"(\nrun (local-test_\d+) in )")) ? m[1].str()
                                                                                   : "";
  }
};

void check_rank_variables(const job& j, int world, int procs) {
  for (int r = 0; r < world; ++r) {
    const std::string expected = "[trellis] rank " + std::to_string(r) + " of " +
                                 std::to_string(world) + ": local_rank " +
                                 std::to_string(r % procs) + " of " + std::to_string(procs) +
                                 ", node " + std::to_string(r / procs) + ", device cpu (gloo)";
    CHECK_THAT(j.rank_log(r), Catch::Contains(expected));
    CHECK_THAT(j.rank_log(r), Catch::Contains("[trellis] rank " + std::to_string(r) + " finished"));
  }
  CHECK(fs::file_size(j.run() / "outputs" / "model.pt") > 1000);
  CHECK_THAT(read_text(j.run() / "metrics.jsonl"), Catch::Contains("\"val_accuracy\""));
}

/// The pid a rank printed in its log, once the job is training (rank 0 logged a step).
int training_rank_pid(const job& j, int rank, std::chrono::seconds limit) {
  static const std::regex pid_line(R"(\[trellis\] rank \d+ pid (\d+))");
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto log = j.rank_log(rank);
    std::smatch m;
    if (j.rank_log(0).find(" step ") != std::string::npos && std::regex_search(log, m, pid_line))
      return std::stoi(m[1].str());
    std::this_thread::sleep_for(50ms);
  }
  FAIL("rank " << rank << " of " << j.name << " never started training:\n" << j.out());
  return -1;
}

bool alive(int pid) { return ::kill(pid, 0) == 0; }

/// Real PNGs written by Python's PIL: root/{train,val}/{a,b,c}/<i>.png, 28x28 gray, `count` per
/// class and split, each class a little brighter than the last, with noise.
void write_png_folder(const fs::path& root, int count) {
  fs::remove_all(root);
  fs::create_directories(root.parent_path());
  const auto writer = run_captured(
      {{"/usr/bin/python3", "-c",
        "import sys, os, random\nfrom PIL import Image\nroot, n = sys.argv[1], int(sys.argv[2])\n"
        "random.seed(3)\n"
        "for split in ('train', 'val'):\n  for k, c in enumerate(('a', 'b', 'c')):\n    "
        "os.makedirs(f'{root}/{split}/{c}')\n    for i in range(n):\n      "
        "im = Image.new('L', (28, 28), 60 * k + random.randint(0, 30))\n      "
        "im.save(f'{root}/{split}/{c}/{i}.png')\n",
        root.string(), std::to_string(count)},
       {},
       root.string() + "-writer.log",
       false});
  INFO(writer.output);
  REQUIRE(writer.status.success());
}

/// `trellis` (the workspace's command line) with `args`, its output parsed as JSON.
nlohmann::json trellis_json(const fs::path& workspace, std::vector<std::string> args) {
  args.insert(args.begin(), {TRELLIS_CLI, "--workspace=" + workspace.string()});
  args.push_back("--json");
  const auto run = run_captured({args, {}, workspace.string() + "-cli.log", false});
  INFO(run.output);
  REQUIRE(run.status.success());
  return nlohmann::json::parse(run.output);
}
/// Waits until `ready()` holds, at most `limit`; returns whether it did.
template <class Ready>
bool wait_until(Ready ready, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!ready()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

/// Every live process whose command line mentions `text` (a job's own folder), as "pid: argv".
std::vector<std::string> processes_mentioning(const std::string& text) {
  std::vector<std::string> found;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const auto pid = entry.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = read_text(entry.path() / "cmdline");
    for (auto& c : cmdline) c = c == '\0' ? ' ' : c;
    std::string stat = read_text(entry.path() / "stat");
    const bool zombie = stat.rfind(") Z ") != std::string::npos;
    if (!zombie && cmdline.find(text) != std::string::npos) found.push_back(pid + ": " + cmdline);
  }
  return found;
}

/// A checkpoint's entry read back by Python's torch.load(weights_only=True).
std::string checkpoint_entry(const fs::path& file, const std::string& key) {
  const auto run = run_captured(
      {{"/usr/bin/python3", "-c",
        "import sys, torch\nprint(torch.load(sys.argv[1], weights_only=True)[sys.argv[2]].item())",
        file.string(), key},
       {},
       fs::path{TRELLIS_LOCAL_WORK_DIR} / "checkpoint-entry.log",  // beside, not on its disk
       false});
  INFO(run.output);
  REQUIRE(run.status.success());
  return run.output.substr(0, run.output.find('\n'));
}

/// Which files of `dir` (recursively) end in `suffix`.
std::vector<std::string> files_ending(const fs::path& dir, const std::string& suffix) {
  std::vector<std::string> found;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().string().ends_with(suffix)) found.push_back(e.path().string());
  return found;
}
}  // namespace

TEST_CASE("per_process: 2 nodes x 2 procs, every rank with its variables", "[per_process]") {
  job j("per_process");
  const auto status = j.wait(300s);
  INFO(j.out());
  REQUIRE(status.success());
  check_rank_variables(j, 4, 2);
  CHECK_THAT(j.rank_log(3),
             Catch::Contains(" gradient bucket(s) reduced through Gloo"));  // 2 hosts
  CHECK_THAT(j.out(), Catch::Contains("completed") && Catch::Contains("best val_accuracy 0."));
  // This job's pipeline ends in register_model and export_onnx: the version holds the checked
  // ONNX file, and a download brings it, verified.
  CHECK_THAT(j.out(), Catch::Contains("[trellis] registered local-test:1 (small_cnn for input "
                                      "[1, 28, 28] (10 classes)) in "));
  CHECK_THAT(j.out(), Catch::Contains("[ok] export_onnx.model: small_cnn becomes "));
  CHECK_THAT(j.rank_log(0), Catch::Contains("model.onnx: ONNX checker and strict shape inference "
                                            "passed; max |ONNX - LibTorch| "));
  CHECK_THAT(j.out(), Catch::Contains("[trellis] ONNX: ") &&
                          Catch::Contains("models/local-test/1/model.onnx (opset 17"));
  CHECK_THAT(j.out(), !Catch::Contains("not carried out"));
  const auto card = trellis_json(j.dir / "ws", {"models", "show", "local-test:1"});
  REQUIRE(card["files"].size() == 2);
  CHECK(card["files"][1]["path"] == "model.onnx");
  CHECK(card["details"]["onnx"]["checker_passed"] == true);
  CHECK(card["details"]["onnx"]["max_abs_diff"].get<double>() <= 1e-4);
  const auto download =
      run_captured({{TRELLIS_CLI, "--workspace=" + (j.dir / "ws").string(), "models", "download",
                     "local-test:1", (j.dir / "down").string()},
                    {},
                    j.dir / "download.log",
                    false});
  INFO(download.output);
  REQUIRE(download.status.success());
  CHECK(fs::file_size(j.dir / "down" / "model.onnx") ==
        fs::file_size(j.run() / "outputs" / "model.onnx"));
}

TEST_CASE("per_node: one launcher per node starts its ranks", "[per_node]") {
  job j("per_node");
  const auto status = j.wait(300s);
  INFO(j.out());
  REQUIRE(status.success());
  check_rank_variables(j, 4, 2);
  CHECK_THAT(read_text(j.run() / "logs" / "node_1.log"),
             Catch::Contains("node 1 started ranks 2..3"));
  CHECK_THAT(j.out(), !Catch::Contains("not carried out"));  // nothing after train
}

TEST_CASE("mpi: mpirun starts the ranks, which read OMPI_COMM_WORLD_*", "[mpirun]") {
  job j("mpi");
  const auto status = j.wait(300s);
  INFO(j.out() << read_text(j.run() / "logs" / "mpirun.log"));
  REQUIRE(status.success());
  check_rank_variables(j, 2, 2);
  CHECK_THAT(j.rank_log(1), Catch::Contains("ranks from mpi"));
  CHECK_THAT(j.rank_log(1), Catch::Contains(" gradient bucket(s) reduced through shared memory"));
}

/// torchrun starting 2 ranks of the per_process job in `dir`, its output (--tee) in torchrun.log.
process::spawn_request torchrun_job(const fs::path& dir, std::vector<std::string> settings) {
  fs::remove_all(dir);
  fs::create_directories(dir);
  // Debian's torchrun (torch 1.13) spells --no-python as --no_python, and on Python 3.11
  // needs non-zero redirects (a flag-enum change).
  std::vector<std::string> argv{"/usr/bin/python3", "-m", "torch.distributed.run", "--no_python",
                                "--nnodes=1", "--nproc_per_node=2", "--master_addr=127.0.0.1",
                                "--master_port=" + std::to_string(free_port()), "--redirects", "2",
                                "--tee", "1", TRELLIS_LOCAL_JOB, "--set=distributed.timeout_s=20"};
  argv.insert(argv.end(), settings.begin(), settings.end());
  return {argv,
          {{"TRELLIS_TEST_JOB", "per_process"}, {"TRELLIS_RUN_DIR", dir.string()}},
          dir / "torchrun.log",
          false};
}

TEST_CASE("torchrun --no-python runs the worker with the agent's store", "[torchrun]") {
  const fs::path dir = fs::path{TRELLIS_LOCAL_WORK_DIR} / "torchrun";
  const auto run = run_captured(torchrun_job(dir, {}));
  INFO(run.output);
  REQUIRE(run.status.success());
  CHECK_THAT(run.output, Catch::Contains("rank 0 of 2: local_rank 0 of 2, node 0, device cpu "
                                         "(gloo), ranks from torch env (agent store)"));
  CHECK_THAT(run.output, Catch::Contains("rank 1 of 2: local_rank 1 of 2, node 0, device cpu "
                                         "(gloo), ranks from torch env (agent store)"));
  CHECK(fs::file_size(dir / "outputs" / "model.pt") > 1000);
}

TEST_CASE("a killed rank stops the job, is named, and leaves no process behind", "[fault]") {
  job j("two_epochs", {}, {"--set=dataset.subset=0"});
  const int rank0 = training_rank_pid(j, 0, 120s);
  const int rank1 = training_rank_pid(j, 1, 120s);
  const auto killed_at = std::chrono::steady_clock::now();
  REQUIRE(::kill(rank1, SIGKILL) == 0);
  const auto status = j.wait(60s);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - killed_at).count();
  INFO(j.out());
  CHECK(status.code == 1);
  CHECK(seconds < 20.0);  // the collective timeout of this job
  CHECK_THAT(j.out(), Catch::Contains("rank 1 failed: killed by signal 9 (Killed); its log is"));
  CHECK_THAT(j.out(), Catch::Contains("logs/rank_1.log"));
  CHECK_FALSE(alive(rank0));
  CHECK_FALSE(alive(rank1));
}

TEST_CASE("per_node: a killed rank is named by its global rank, through its node's launcher",
          "[fault]") {
  job j("per_node", {}, {"--set=dataset.subset=0"});
  std::vector<int> ranks;
  for (int r = 0; r < 4; ++r) ranks.push_back(training_rank_pid(j, r, 120s));
  REQUIRE(::kill(ranks[3], SIGKILL) == 0);  // node 1's second rank
  const auto status = j.wait(60s);
  INFO(j.out());
  CHECK(status.code == 1);
  CHECK_THAT(j.out(), Catch::Contains("rank 3 failed: killed by signal 9 (Killed); its log is"));
  CHECK_THAT(j.out(), Catch::Contains("logs/rank_3.log"));
  for (const int pid : ranks) CHECK_FALSE(alive(pid));
}

TEST_CASE("Ctrl-C stops every rank", "[interrupt]") {
  job j("two_epochs", {}, {"--set=dataset.subset=0"});
  const int rank0 = training_rank_pid(j, 0, 120s);
  const int rank1 = training_rank_pid(j, 1, 120s);
  j.driver.signal_group(SIGINT);  // the ranks run in process groups of their own
  const auto status = j.wait(30s);
  INFO(j.out());
  CHECK(status.code == 130);
  CHECK_THAT(j.out(),
             Catch::Contains("interrupted: every process of run local-test_1 was stopped"));
  CHECK_FALSE(alive(rank0));
  CHECK_FALSE(alive(rank1));
}

TEST_CASE("max_restarts<1>: a killed rank restarts the job from its checkpoint", "[restart]") {
  job j("restart", {}, {"--set=dataset.subset=20000"});
  // Kill rank 1 once the first epoch's checkpoint exists.
  const auto deadline = std::chrono::steady_clock::now() + 240s;
  while (!fs::exists(j.run() / "checkpoints" / "last.pt") &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  REQUIRE(fs::exists(j.run() / "checkpoints" / "last.pt"));
  const int rank1 = training_rank_pid(j, 1, 60s);
  ::kill(rank1, SIGKILL);
  const auto status = j.wait(300s);
  INFO(j.out());
  REQUIRE(status.success());
  CHECK_THAT(j.out(), Catch::Contains("restarting from the last checkpoint (restart 1 of 1)"));
  CHECK_THAT(j.rank_log(0), Catch::Contains("resumed"));
  CHECK(fs::file_size(j.run() / "outputs" / "model.pt") > 1000);
}

TEST_CASE("a corrupt PNG is named before or during the first epoch", "[corrupt]") {
  const fs::path root = fs::path{TRELLIS_LOCAL_WORK_DIR} / "corrupt-folder";
  write_png_folder(root, 8);  // then one class gets a truncated file
  const fs::path bad = root / "train" / "b" / "3.png";
  fs::resize_file(bad, fs::file_size(bad) / 2);  // a PNG cut off halfway

  job j("folder", {{"TRELLIS_TEST_FOLDER", root.string()}}, {"--set=dataset.subset=0"});
  const auto status = j.wait(120s);
  INFO(j.out());
  CHECK_FALSE(status.success());
  CHECK_THAT(j.out(), Catch::Contains(bad.string()));
}

// Registered with ctest only on a CUDA build of LibTorch (tests/core/local/CMakeLists.txt).
TEST_CASE("local::cuda: one rank on its GPU over NCCL trains and learns", "[.cuda]") {
  job j("cuda");
  const auto status = j.wait(300s);
  INFO(j.out() << j.rank_log(0));
  REQUIRE(status.success());
  CHECK_THAT(j.rank_log(0),
             Catch::Contains("rank 0 of 1: local_rank 0 of 1, node 0, device cuda:0 (nccl)"));
  CHECK(fs::file_size(j.run() / "outputs" / "model.pt") > 1000);
  const auto best = trellis::core::best_logged_value(j.run() / "metrics.jsonl", "val_accuracy");
  REQUIRE(best);
  CHECK(*best > 0.6);  // one epoch on 2,048 images; chance is 0.1
}

TEST_CASE("a 2-rank run is recorded, with its metrics once each and in step order",
          "[workspace]") {
  job j("two_epochs", {}, {"--tag=purpose=test"});
  const fs::path workspace = j.dir / "ws";
  // `trellis runs logs --follow`, started while the run goes on, ends with it and misses nothing.
  training_rank_pid(j, 0, 120s);
  const fs::path followed = j.dir / "follow.log";
  auto follow = process::child::spawn({{TRELLIS_CLI, "--workspace=" + workspace.string(), "runs",
                                        "logs", "local-test_1", "--follow"},
                                       {},
                                       followed,
                                       false});
  const auto status = j.wait(300s);
  INFO(j.out());
  REQUIRE(status.success());
  const auto follow_deadline = std::chrono::steady_clock::now() + 30s;
  while (!follow.try_wait() && std::chrono::steady_clock::now() < follow_deadline)
    std::this_thread::sleep_for(50ms);
  REQUIRE(follow.status());
  CHECK(follow.status()->success());
  CHECK(read_text(followed) == j.rank_log(0));
  const auto rank1 = run_captured({{TRELLIS_CLI, "--workspace=" + workspace.string(), "runs",
                                    "logs", "local-test_1", "--rank=1"},
                                   {},
                                   j.dir / "rank1.log",
                                   false});
  CHECK(rank1.output == j.rank_log(1));
  const auto experiments = trellis_json(workspace, {"experiments", "list"});
  REQUIRE(experiments.size() == 1);
  CHECK(experiments[0]["name"] == "local-test");
  CHECK(experiments[0]["runs"] == 1);
  CHECK(trellis_json(workspace, {"runs", "list"})[0]["status"] == "Completed");
  const auto run = trellis_json(workspace, {"runs", "show", "local-test_1"});
  CHECK(run["status"] == "Completed");
  CHECK(run["backend"] == "local");
  CHECK(run["end_time"].get<double>() >= run["start_time"].get<double>());
  CHECK(run["tags"]["purpose"] == "test");
  CHECK_THAT(run["torch_version"].get<std::string>(), Catch::Matches(R"(\d+\.\d+\.\d+)"));
  CHECK(run["settings"]["train"]["lr"] == 2e-3);
  CHECK(run["plan"]["topology"]["world_size"] == 2);
  CHECK(run["final_metrics"]["val_accuracy"].get<double>() > 0.3);
  // The run's results page, written when it completed, with its charts inline.
  REQUIRE(run["results_page"].is_string());
  CHECK(fs::path(run["results_page"].get<std::string>()) == j.run() / "results.html");
  const auto page = read_text(j.run() / "results.html");
  CHECK(page.find("local-test_1") != std::string::npos);
  CHECK(page.find("<svg") != std::string::npos);
  CHECK(page.find("<script src") == std::string::npos);  // offline: nothing fetched

  const auto metrics = trellis_json(workspace, {"runs", "metrics", "local-test_1"});
  std::set<std::tuple<std::string, std::int64_t, std::int64_t>> seen;
  std::map<std::int64_t, int> ranks_with_throughput;
  std::int64_t last_step = 0;
  std::size_t val_points = 0;
  for (const auto& m : metrics) {
    const auto key = std::tuple{m["name"].get<std::string>(), m["rank"].get<std::int64_t>(),
                                m["step"].get<std::int64_t>()};
    CHECK(seen.insert(key).second);  // once each
    CHECK(m["step"].get<std::int64_t>() >= last_step);  // in step order
    last_step = m["step"].get<std::int64_t>();
    if (m["name"] == "rank_images_per_s") ++ranks_with_throughput[m["rank"].get<std::int64_t>()];
    if (m["name"] == "val_accuracy") ++val_points;
  }
  CHECK(val_points == 2);  // one per epoch
  CHECK(ranks_with_throughput.size() == 2);  // each rank's own, per logging step
  // Everything rank 0 logged, and nothing else.
  std::ifstream lines(j.run() / "metrics.jsonl");
  std::size_t logged = 0;
  for (std::string line; std::getline(lines, line);) ++logged;
  CHECK(metrics.size() == logged);

  // The same values in TensorBoard's event file, read back by a reader of its own.
  fs::path events;
  for (const auto& entry : fs::directory_iterator(j.run()))
    if (entry.path().filename().string().starts_with("events.out.tfevents.")) events = entry.path();
  REQUIRE_FALSE(events.empty());
  const auto read = run_captured({{"/usr/bin/python3", TRELLIS_EVENTS_READER, events.string(),
                                   (j.dir / "events.json").string()},
                                  {},
                                  j.dir / "events.log",
                                  false});
  INFO(read.output);
  REQUIRE(read.status.success());
  std::map<std::pair<std::string, std::int64_t>, float> scalars;
  const auto events_read = nlohmann::json::parse(read_text(j.dir / "events.json"));
  for (const auto& e : events_read["events"])
    if (e["what"] == "summary")
      for (const auto& v : e["values"]) {
        const auto bits = v["float_bits"].get<std::uint32_t>();
        float value;
        std::memcpy(&value, &bits, sizeof value);
        scalars[{v["tag"].get<std::string>(), e["step"].get<std::int64_t>()}] = value;
      }
  CHECK(scalars.size() == metrics.size());
  for (const auto& m : metrics) {
    const auto name = m["name"].get<std::string>();
    const auto tag = name == "rank_images_per_s"
                         ? "images_per_s/rank_" + std::to_string(m["rank"].get<int>())
                         : name;
    const auto found = scalars.find({tag, m["step"].get<std::int64_t>()});
    REQUIRE(found != scalars.end());
    if (!m["value"].is_null()) CHECK(found->second == static_cast<float>(m["value"].get<double>()));
  }
}

TEST_CASE("transfer learning through the registry: a base, a transfer, and their lineage",
          "[transfer]") {
  const fs::path root = fs::path{TRELLIS_LOCAL_WORK_DIR} / "transfer-folder";
  write_png_folder(root, 16);
  const fs::path workspace = fs::path{TRELLIS_LOCAL_WORK_DIR} / "transfer-ws";
  fs::remove_all(workspace);
  const std::map<std::string, std::string> env{{"TRELLIS_TEST_FOLDER", root.string()}};
  const std::vector<std::string> args{"--workspace=" + workspace.string(),
                                      "--set=dataset.subset=0"};
  job base("tl_base", env, args);
  REQUIRE(base.wait(300s).success());
  CHECK_THAT(base.out(), Catch::Contains("[trellis] registered tl-base:1 (resnet18 for input [1, "
                                         "28, 28] (3 classes))"));
  job transfer("tl_transfer", env, args);
  const auto status = transfer.wait(300s);
  INFO(transfer.out());
  REQUIRE(status.success());
  CHECK_THAT(transfer.out(), Catch::Contains("transfer  from tl-base:1"));

  const auto card = trellis_json(workspace, {"models", "show", "tl-transfer"});
  CHECK(card["version"] == 1);
  CHECK(card["parent"]["name"] == "tl-base");
  CHECK(card["parent"]["version"] == 1);
  CHECK(card["run"] == "local-test_2");
  CHECK(card["architecture"]["model"] == "resnet18");
  CHECK(card["architecture"]["input_shape"] == nlohmann::json::array({1, 28, 28}));
  CHECK(card["dataset_fingerprint"].get<std::string>().size() == 64);
  CHECK(card["metrics"].contains("val_accuracy"));
  CHECK(card["details"]["select_best"] == "val_accuracy");
  const auto base_card = trellis_json(workspace, {"models", "show", "tl-base:1"});
  CHECK(base_card["parent"].is_null());
  CHECK(base_card["run"] == "local-test_1");
  CHECK(base_card["dataset_fingerprint"] == card["dataset_fingerprint"]);  // the same folder
}

TEST_CASE("a transfer_from that cannot work fails in --dry-run, before anything starts",
          "[misfit]") {
  const fs::path root = fs::path{TRELLIS_LOCAL_WORK_DIR} / "misfit-folder";
  write_png_folder(root, 2);
  const fs::path workspace = fs::path{TRELLIS_LOCAL_WORK_DIR} / "misfit-ws";
  fs::remove_all(workspace);
  const std::map<std::string, std::string> env{{"TRELLIS_TEST_FOLDER", root.string()}};
  auto dry_run = [&](const std::string& which, std::vector<std::string> extra = {}) {
    extra.insert(extra.begin(), {"--workspace=" + workspace.string(), "--dry-run"});
    job j(which, env, extra);
    const auto status = j.wait(60s);
    return std::pair{status, j.out()};
  };
  // Nothing registered yet.
  auto [none, none_out] = dry_run("tl_misfit");
  CHECK(none.code == 1);
  CHECK_THAT(none_out, Catch::Contains("[FAILED] registry.transfer_from: train: "
                                       "transfer_from<\"tl-base\">: no model 'tl-base' is "
                                       "registered in"));
  // A ResNet-18 base, saved by Python and imported: the small CNN cannot start from it.
  const auto python = run_captured(
      {{"/usr/bin/python3", "-c",
        "import sys, torch, torchvision\nm = torchvision.models.resnet18(num_classes=3)\n"
        "m.conv1 = torch.nn.Conv2d(1, 64, 7, 2, 3, bias=False)\n"
        "torch.save(dict(m.state_dict()), sys.argv[1])\n",
        (workspace.parent_path() / "misfit-base.pt").string()},
       {},
       workspace.parent_path() / "misfit-python.log",
       false});
  REQUIRE(python.status.success());
  const auto imported = run_captured(
      {{TRELLIS_CLI, "--workspace=" + workspace.string(), "models", "import", "tl-base",
        "--file=" + (workspace.parent_path() / "misfit-base.pt").string(), "--model=resnet18",
        "--classes=3", "--input-shape=1,28,28"},
       {},
       workspace.parent_path() / "misfit-import.log",
       false});
  INFO(imported.output);
  REQUIRE(imported.status.success());
  auto [misfit, misfit_out] = dry_run("tl_misfit");
  CHECK(misfit.code == 1);
  CHECK_THAT(misfit_out,
             Catch::Contains("transfer_from<\"tl-base\"> cannot start from tl-base:1: it is a "
                             "resnet18 for input [1, 28, 28] (3 classes), and this pipeline trains "
                             "a small_cnn for input [1, 28, 28] (3 classes)"));
  // A version that does not exist, pinned.
  auto [pinned, pinned_out] = dry_run("tl_transfer", {"--set=train.transfer_version=4"});
  CHECK(pinned.code == 1);
  CHECK_THAT(pinned_out,
             Catch::Contains("model 'tl-base' has no version 4 (its versions are 1 to 1)"));
  // The fitting pipeline passes, until the registered file is changed.
  auto [fits, fits_out] = dry_run("tl_transfer");
  CHECK(fits.code == 0);
  CHECK_THAT(fits_out, Catch::Contains("[ok] registry.transfer_from: tl-base:1"));
  std::ofstream(workspace / "models" / "tl-base" / "1" / "model.pt", std::ios::app) << "x";
  auto [tampered, tampered_out] = dry_run("tl_transfer");
  CHECK(tampered.code == 1);
  CHECK_THAT(tampered_out, Catch::Contains("was changed after it was registered"));
  // Nothing ever started: no run folder, no rank.
  CHECK_FALSE(fs::exists(workspace / "runs"));
}

TEST_CASE("two runs started at once on one port: one is refused, naming the other; one completes",
          "[conflict]") {
  const fs::path workspace = fs::path{TRELLIS_LOCAL_WORK_DIR} / "conflict-ws";
  fs::remove_all(workspace);
  const std::string port = std::to_string(free_port());
  // Two epochs over 16,384 images: the first run still trains, seconds later, when the second
  // one's ranks reach the port (with a run of a second or two they could follow one another).
  const std::vector<std::string> args{"--workspace=" + workspace.string(),
                                      "--set=distributed.master_port=" + port,
                                      "--set=dataset.subset=16384"};
  job a("two_epochs", {}, args, "conflict-a"), b("two_epochs", {}, args, "conflict-b");
  const bool a_done = a.wait(240s).success(), b_done = b.wait(240s).success();
  INFO("--- first driver:\n" << a.out() << "--- second driver:\n" << b.out());
  REQUIRE(a_done != b_done);
  const job& refused = a_done ? b : a;
  const job& completed = a_done ? a : b;
  const std::string refused_id = refused.run_id(), completed_id = completed.run_id();
  REQUIRE_FALSE(refused_id.empty());
  REQUIRE_FALSE(completed_id.empty());
  CHECK_THAT(refused.out(),
             Catch::Contains("127.0.0.1:" + port + " is the rendezvous of another run, run " +
                             completed_id + " (attempt "));
  CHECK_THAT(refused.out(), Catch::Contains("--set distributed.master_port=N"));
  // Neither run loses a log: each rank of each run has its own, in its own run's folder, and what
  // it wrote is there. A rank of the refused run may be stopped before its first line, once the
  // other one was refused; the refused rank's log says why.
  const auto log_of = [&](const std::string& id, int r) {
    return workspace / "runs" / id / "logs" / ("rank_" + std::to_string(r) + ".log");
  };
  int refusals = 0;
  for (const auto& id : {refused_id, completed_id})
    for (const int r : {0, 1}) {
      INFO(log_of(id, r));
      REQUIRE(fs::exists(log_of(id, r)));
      const auto log = read_text(log_of(id, r));
      if (id == completed_id || !log.empty())
        CHECK_THAT(log, Catch::StartsWith("[trellis] rank " + std::to_string(r) + " of 2"));
      if (id == refused_id && log.find("is the rendezvous of another run, run " + completed_id) !=
                                  std::string::npos)
        ++refusals;
    }
  CHECK(refusals >= 1);
  CHECK_THAT(read_text(workspace / "runs" / completed_id / "logs" / "rank_1.log"),
             Catch::Contains("[trellis] rank 1 finished"));
}

TEST_CASE("the rank that failed first is named, with its log tail, in every launch mode",
          "[first_failure]") {
  // Validation is not shuffled: with 2 ranks, rank 1 reads every odd sample, the second image
  // of class a among them. It fails there while rank 0 goes on to the validation's collective.
  const fs::path root = fs::path{TRELLIS_LOCAL_WORK_DIR} / "first-failure-data";
  write_png_folder(root, 8);
  const fs::path bad = root / "val" / "a" / "1.png";
  fs::resize_file(bad, fs::file_size(bad) / 2);
  for (const std::string which : {"folder", "folder_per_node", "folder_mpi"}) {
    job j(which, {{"TRELLIS_TEST_FOLDER", root.string()}}, {"--set=dataset.subset=0"},
          "first-failure-" + which);
    const auto status = j.wait(240s);
    INFO(which << ":\n" << j.out());
    CHECK(status.code == 1);
    CHECK_THAT(j.out(), Catch::Contains("[trellis] rank 1 failed: error: ") &&
                            Catch::Contains(bad.string()));
    CHECK_THAT(j.out(), !Catch::Contains("rank 0 failed"));
    // The tail of rank 1's log follows, indented.
    CHECK_THAT(j.out(), Catch::Contains("logs/rank_1.log\n    [trellis] rank 1 ") ||
                            Catch::Contains("logs/rank_1.log\n    "));
    const auto run = trellis_json(j.workspace, {"runs", "show", "local-test_1"});
    CHECK(run["failing_rank"] == 1);
  }
}

TEST_CASE("killing the driver with SIGKILL leaves no process of the run after 2 s", "[orphans]") {
  for (const std::string which : {"per_process", "per_node", "mpi"}) {
    job j(which, {}, {"--set=dataset.subset=0"}, "orphans-" + which);
    const int world = which == "mpi" ? 2 : 4;
    const bool joined = wait_until(
        [&] {
          for (int r = 0; r < world; ++r)
            if (j.rank_log(r).find("gradient bucket(s) reduced") == std::string::npos) return false;
          return true;
        },
        180s);
    INFO(which << ":\n" << j.out());
    REQUIRE(joined);
    REQUIRE(!processes_mentioning(j.dir.string()).empty());
    ::kill(j.driver.pid(), SIGKILL);
    j.driver.wait();
    std::this_thread::sleep_for(2s);
    const auto left = processes_mentioning(j.dir.string());
    std::string listing;
    for (const auto& p : left) listing += p + "\n";
    INFO("still running:\n" << listing);
    CHECK(left.empty());
    for (const auto& p : left) ::kill(std::stoi(p), SIGKILL);  // leave nothing to the next test
  }
}

TEST_CASE("killing torchrun with SIGKILL leaves none of its ranks after 2 s", "[orphans]") {
  // torchrun's agent, killed by SIGKILL, cannot stop its workers: the ranks follow it themselves.
  const fs::path dir = fs::path{TRELLIS_LOCAL_WORK_DIR} / "orphans-torchrun";
  auto agent = process::child::spawn(torchrun_job(dir, {"--set=dataset.subset=0"}));
  std::map<int, int> ranks;  // rank -> pid, from "[trellis] rank N pid P"
  const bool training = wait_until(
      [&] {
        const auto log = read_text(dir / "torchrun.log");
        static const std::regex pid_line(R"(\[trellis\] rank (\d+) pid (\d+))");
        for (std::sregex_iterator m(log.begin(), log.end(), pid_line), end; m != end; ++m)
          ranks[std::stoi((*m)[1])] = std::stoi((*m)[2]);
        return ranks.size() == 2 && log.find(" step ") != std::string::npos;
      },
      180s);
  INFO(read_text(dir / "torchrun.log"));
  REQUIRE(training);
  ::kill(agent.pid(), SIGKILL);
  agent.wait();
  std::this_thread::sleep_for(2s);
  for (const auto& [rank, pid] : ranks) {
    INFO("rank " << rank << " pid " << pid);
    const auto stat = read_text(fs::path{"/proc"} / std::to_string(pid) / "stat");
    CHECK((stat.empty() || stat.rfind(") Z ") != std::string::npos));  // gone, or a zombie
    if (!stat.empty()) ::kill(pid, SIGKILL);  // leave nothing to the next test
  }
}

TEST_CASE("a full disk fails the run with the file and the cause, keeps the last checkpoint, "
          "and --resume completes it once there is room",
          "[durability]") {
  const fs::path root = fs::path{TRELLIS_LOCAL_WORK_DIR} / "durability-folder";
  write_png_folder(root, 40);
  const std::map<std::string, std::string> env{{"TRELLIS_TEST_FOLDER", root.string()}};
  job j("folder2", env, {"--set=dataset.subset=0", "--set=train.batch=16"}, "durability");
  // The checkpoints get a disk of their own, which fills up once the first one is written.
  const fs::path checkpoints = j.run() / "checkpoints";
  REQUIRE(wait_until([&] { return fs::exists(checkpoints); }, 60s));
  // Room for the first epoch's two checkpoints (5 MB each), not for a third beside them.
  small_disk disk(checkpoints, 12 * 1024);
  REQUIRE(wait_until([&] { return fs::exists(checkpoints / "last.pt"); }, 180s));
  disk.fill(checkpoints / "filler");
  const auto status = j.wait(180s);
  INFO(j.out());
  CHECK(status.code == 1);  // a clear error, not an abort
  CHECK_THAT(j.out(), Catch::Contains("[trellis] rank 0 failed: error: ") &&
                          Catch::Contains(checkpoints.string()) &&
                          Catch::Contains("No space left on device (ENOSPC)"));
  CHECK_THAT(j.out(), Catch::Contains("resume it from its last checkpoint with: ") &&
                          Catch::Contains("--resume local-test_1"));
  CHECK(files_ending(j.run(), ".partial").empty());
  CHECK(checkpoint_entry(checkpoints / "last.pt", "trainer.epoch") == "1");  // intact

  fs::remove(checkpoints / "filler");
  job resumed("folder2", env, {"--workspace=" + j.workspace.string(), "--resume=local-test_1"},
              "durability-resumed");
  const auto resumed_status = resumed.wait(180s);
  INFO(resumed.out());
  REQUIRE(resumed_status.success());
  CHECK_THAT(resumed.out(),
             Catch::Contains("run local-test_2 resumes run local-test_1 from its last checkpoint"));
  CHECK_THAT(resumed.rank_log(0, 2), Catch::Contains("resumed after epoch 1"));
  CHECK_THAT(read_text(resumed.run(2) / "outputs" / "summary.json"),
             Catch::Contains("\"epochs\": 2"));
}

TEST_CASE("--resume continues a killed run from its checkpoint with its settings", "[resume]") {
  const fs::path root = fs::path{TRELLIS_LOCAL_WORK_DIR} / "resume-folder";
  write_png_folder(root, 120);  // epoch 2 lasts long enough to be killed in
  const std::map<std::string, std::string> env{{"TRELLIS_TEST_FOLDER", root.string()}};
  job killed("folder2", env,
             {"--set=dataset.subset=0", "--set=train.batch=16", "--set=train.lr=0.0015",
              "--set=train.seed=11"},
             "resume");
  REQUIRE(wait_until([&] { return fs::exists(killed.run() / "checkpoints" / "last.pt"); }, 180s));
  ::kill(killed.driver.pid(), SIGKILL);
  killed.driver.wait();
  const std::vector<std::string> here{"--workspace=" + killed.workspace.string()};
  auto with = [&](std::vector<std::string> more) {
    more.insert(more.begin(), here.begin(), here.end());
    return more;
  };

  // What it trains stays as it was; where it runs may change.
  job changed("folder2", env, with({"--resume=local-test_1", "--set=train.lr=0.1"}),
              "resume-changed");
  CHECK(changed.wait(60s).code == 2);
  CHECK_THAT(changed.out(),
             Catch::Contains("--set train.lr=0.1 with --resume local-test_1: a resumed run "
                             "keeps the settings it was started with"));
  job resumed("folder2", env, with({"--resume=local-test_1"}), "resume-resumed");
  const auto status = resumed.wait(180s);
  INFO(resumed.out());
  REQUIRE(status.success());
  CHECK_THAT(resumed.out(),
             Catch::Contains("[trellis] resuming run local-test_1 (Failed: its driver (pid"));
  CHECK_THAT(resumed.rank_log(0, 2), Catch::Contains("resumed after epoch 1"));
  const auto run = trellis_json(killed.workspace, {"runs", "show", "local-test_2"});
  CHECK(run["status"] == "Completed");
  CHECK(run["resumed_from"] == "local-test_1");
  CHECK(run["settings"]["train"]["lr"] == 0.0015);
  CHECK(run["settings"]["train"]["seed"] == 11);
  CHECK(run["settings"]["train"]["batch"] == 16);
  CHECK(trellis_json(killed.workspace, {"runs", "show", "local-test_1"})["status"] == "Failed");
  std::size_t epochs = 0;
  for (const auto& m : trellis_json(killed.workspace, {"runs", "metrics", "local-test_2"}))
    if (m["name"] == "val_accuracy") ++epochs;
  CHECK(epochs == 2);  // the first from the checkpointed run, the second trained now

  job again("folder2", env, with({"--resume=local-test_1"}), "resume-again");
  CHECK(again.wait(60s).code == 2);
  CHECK_THAT(again.out(),
             Catch::Contains("--resume local-test_1: run local-test_2 resumed it already "
                             "(Completed); resume local-test_2 instead"));
  job done("folder2", env, with({"--resume=local-test_2"}), "resume-done");
  CHECK(done.wait(60s).code == 2);
  CHECK_THAT(done.out(),
             Catch::Contains("--resume local-test_2: it completed; there is nothing to resume"));
}

TEST_CASE("the same program, settings and seed give the same weights, in every launch mode",
          "[reproducible]") {
  const fs::path root = fs::path{TRELLIS_LOCAL_WORK_DIR} / "reproducible-folder";
  write_png_folder(root, 40);
  const std::map<std::string, std::string> env{{"TRELLIS_TEST_FOLDER", root.string()}};
  const std::vector<std::string> args{"--set=dataset.subset=0", "--set=train.batch=16",
                                      "--set=train.seed=5"};
  std::vector<std::pair<std::string, std::string>> weights;  // (run, model.pt bytes)
  for (const auto& [which, label] : {std::pair{"folder", "again-1"}, std::pair{"folder", "again-2"},
                                     std::pair{"folder_per_node", "per-node"},
                                     std::pair{"folder_mpi", "mpirun"}}) {
    job j(which, env, args, std::string{"reproducible-"} + label);
    const auto status = j.wait(240s);
    INFO(j.out());
    REQUIRE(status.success());
    weights.emplace_back(label, read_text(j.run() / "outputs" / "model.pt"));
  }
  for (const auto& [label, bytes] : weights) {
    INFO(label << " against again-1 (" << bytes.size() << " bytes)");
    CHECK(bytes.size() > 1000);
    CHECK((bytes == weights.front().second));  // not printed: they are bytes
  }
}

TEST_CASE("a model export_onnx cannot export is refused by the plan, before training",
          "[onnx_up_front]") {
  job j("gated", {}, {"--dry-run"});
  const auto status = j.wait(120s);
  INFO(j.out());
  CHECK(status.code == 1);
  CHECK_THAT(j.out(), Catch::Contains("[FAILED] export_onnx.model: [trellis] export_onnx: ") &&
                          Catch::Contains("aten::sigmoid"));
  job run("gated");
  CHECK(run.wait(120s).code == 1);
  CHECK_THAT(run.out(), Catch::Contains("check export_onnx.model failed") &&
                            Catch::Contains("nothing was started"));
  CHECK_FALSE(fs::exists(run.run()));
}
