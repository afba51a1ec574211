// The workspace database on real SQLite files: SHA-256 against sha256sum, the schema and its
// version, a run's lifecycle, stale runs (a driver killed, a pid reused, a silent host), and the
// metrics a run's metrics.jsonl holds, indexed once each and in step order.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>
#include <trellis/core/process/child.hpp>
#include <trellis/workspace/metrics_follower.hpp>
#include <trellis/workspace/workspace.hpp>

#include "run_captured.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
namespace ws = trellis::workspace;
using trellis::core::testing::run_captured;
using trellis::test::temp_dir;

namespace {
ws::new_run a_run(const std::string& experiment = "exp") {
  return {experiment,
          "local",
          R"({"trellis_plan": 1})",
          R"({"train": {"lr": 0.01}})",
          {std::string(40, 'a'), true, "1.13.0", "none", "none", ws::host_name()},
          {{"owner", "tests"}},
          std::nullopt};
}

std::string status_of(ws::workspace& w, const std::string& id) {
  return std::string{ws::name_of(ws::find_run(w.db(), w.root(), id)->status)};
}

void append(const fs::path& file, const std::string& text) {
  std::ofstream(file, std::ios::app) << text;
}

std::string metric_line(const char* name, int step, int epoch, double value) {
  return trellis::core::to_json_line({name, step, epoch, 0, value, 1.0}) + "\n";
}
}  // namespace

TEST_CASE("SHA-256 matches the FIPS vectors and sha256sum", "[sha256]") {
  CHECK(ws::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(ws::sha256_hex("abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(ws::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(ws::sha256_hex(std::string(1000000, 'a')) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  temp_dir dir;
  const fs::path file = dir.path / "bytes.bin";
  {
    std::ofstream out(file, std::ios::binary);
    for (int i = 0; i < 200000; ++i) out.put(static_cast<char>(i * 7 % 251));  // spans blocks
  }
  const auto sum = run_captured({{"sha256sum", file.string()}, {}, dir.path / "sum.log", false});
  REQUIRE(sum.status.success());
  CHECK(sum.output.substr(0, 64) == ws::sha256_of_file(file));
}

TEST_CASE("a new workspace has the current schema in WAL mode; a newer one is refused",
          "[schema]") {
  temp_dir dir;
  {
    ws::workspace w(dir.path / "ws");
    CHECK(ws::user_version(w.db()) == ws::schema_version);
    auto mode = w.db().prepare("PRAGMA journal_mode");
    mode.step();
    CHECK(mode.text(0) == "wal");
    w.db().exec("PRAGMA user_version = 99");
  }
  try {
    ws::workspace again(dir.path / "ws");
    FAIL("a workspace from a newer trellis was opened");
  } catch (const ws::database_error& e) {
    CHECK_THAT(e.what(), Catch::Contains("has schema version 99, newer than this trellis knows") &&
                             Catch::Contains((dir.path / "ws" / "workspace.db").string()));
  }
}

TEST_CASE("drivers that create one new workspace at once all open it", "[schema]") {
  // Turning a new file to WAL takes an exclusive lock that SQLite does not wait for: two local
  // runs started together on a new workspace once failed with "database is locked".
  temp_dir dir;
  constexpr int drivers = 6, rounds = 10;
  for (int round = 0; round < rounds; ++round) {
    const fs::path workspace = dir.path / ("ws" + std::to_string(round));
    std::atomic<int> waiting{drivers};
    std::vector<std::string> errors(drivers);
    std::vector<std::thread> threads;
    for (int i = 0; i < drivers; ++i)
      threads.emplace_back([&, i] {
        waiting.fetch_sub(1);
        while (waiting.load() > 0) std::this_thread::yield();  // all open at the same moment
        try {
          ws::workspace w(workspace);
        } catch (const std::exception& e) {
          errors[static_cast<std::size_t>(i)] = e.what();
        }
      });
    for (auto& t : threads) t.join();
    for (const auto& error : errors) {
      INFO(error);
      CHECK(error.empty());
    }
  }
}

TEST_CASE("a run goes NotStarted, Running, Completed, with its records", "[runs]") {
  temp_dir dir;
  ws::workspace w(dir.path / "ws");
  const auto first = ws::create_run(w.db(), w.root(), a_run());
  const auto second = ws::create_run(w.db(), w.root(), a_run());
  CHECK(first.id == "exp_1");
  CHECK(second.id == "exp_2");
  CHECK(fs::is_directory(first.folder / "logs"));
  CHECK(status_of(w, first.id) == "NotStarted");

  ws::start_run(w.db(), first.id);
  CHECK(status_of(w, first.id) == "Running");
  ws::finish_run(w.db(), first.id, ws::run_status::completed);
  ws::finish_run(w.db(), first.id, ws::run_status::failed, "too late");  // ended runs stay
  ws::finish_run(w.db(), second.id, ws::run_status::failed, "rank 1 failed", 1);

  const auto r = *ws::find_run(w.db(), w.root(), first.id);
  CHECK(r.status == ws::run_status::completed);
  REQUIRE(r.start_time);
  REQUIRE(r.end_time);
  CHECK(*r.end_time >= *r.start_time);
  CHECK_FALSE(r.failure_reason);
  CHECK(r.plan_json == R"({"trellis_plan": 1})");
  CHECK(r.settings_json == R"({"train": {"lr": 0.01}})");
  CHECK(r.origin.git_commit == std::string(40, 'a'));
  CHECK(r.origin.git_dirty == true);
  CHECK(r.origin.torch_version == "1.13.0");
  CHECK(r.tags.at("owner") == "tests");
  CHECK(r.folder == fs::absolute(dir.path / "ws" / "runs" / "exp_1"));

  const auto failed = *ws::find_run(w.db(), w.root(), second.id);
  CHECK(failed.failure_reason == "rank 1 failed");
  CHECK(failed.failing_rank == 1);
  CHECK(ws::list_runs(w.db(), w.root()).size() == 2);
  CHECK(ws::list_runs(w.db(), w.root(), std::string{"other"}).empty());
  const auto experiments = ws::list_experiments(w.db());
  REQUIRE(experiments.size() == 1);
  CHECK(experiments[0].runs == 2);
  CHECK_FALSE(ws::find_run(w.db(), w.root(), "exp_3"));
}

TEST_CASE("a run whose driver is gone is marked Failed when the workspace is next opened",
          "[stale]") {
  temp_dir dir;
  std::string killed, reused, silent, alive, quiet_but_recent;
  {
    ws::workspace w(dir.path / "ws");
    // A real driver process, killed with -9 while its run is Running.
    auto driver = trellis::core::process::child::spawn({{"sleep", "30"}, {}, dir.path / "d.log"});
    killed = ws::create_run(w.db(), w.root(), a_run()).id;
    ws::start_run(w.db(), killed);
    w.db()
        .prepare("UPDATE runs SET driver_pid = ?, driver_started = ? WHERE id = ?")
        .bind_all(driver.pid(),
                  static_cast<std::int64_t>(*trellis::posix::process_start_ticks(driver.pid())),
                  killed)
        .run();
    ::kill(driver.pid(), SIGKILL);
    driver.wait();
    // This process's pid, but recorded with another start time: a later process reusing it.
    reused = ws::create_run(w.db(), w.root(), a_run()).id;
    w.db()
        .prepare("UPDATE runs SET driver_started = driver_started + 1 WHERE id = ?")
        .bind_all(reused)
        .run();
    // A driver on another machine that stopped beating long ago, and one that beat just now.
    silent = ws::create_run(w.db(), w.root(), a_run()).id;
    w.db()
        .prepare(
            "UPDATE runs SET host = 'elsewhere', heartbeat_at = heartbeat_at - 600 WHERE id = ?")
        .bind_all(silent)
        .run();
    quiet_but_recent = ws::create_run(w.db(), w.root(), a_run()).id;
    w.db()
        .prepare("UPDATE runs SET host = 'elsewhere' WHERE id = ?")
        .bind_all(quiet_but_recent)
        .run();
    alive = ws::create_run(w.db(), w.root(), a_run()).id;  // this very process drives it
  }
  ws::workspace w(dir.path / "ws");
  CHECK(w.stale_runs() == std::vector<std::string>{killed, reused, silent});
  CHECK(status_of(w, killed) == "Failed");
  CHECK_THAT(*ws::find_run(w.db(), w.root(), killed)->failure_reason,
             Catch::Contains("its driver (pid") && Catch::Contains("is gone: killed or crashed") &&
                 Catch::Contains("found stale when the workspace was opened"));
  CHECK(status_of(w, reused) == "Failed");
  CHECK_THAT(*ws::find_run(w.db(), w.root(), silent)->failure_reason,
             Catch::Contains("its driver on elsewhere sent no heartbeat for 6"));
  CHECK(status_of(w, quiet_but_recent) == "NotStarted");
  CHECK(status_of(w, alive) == "NotStarted");
}

TEST_CASE("metrics.jsonl is indexed as it grows: complete lines once, in step order",
          "[metrics]") {
  temp_dir dir;
  ws::workspace w(dir.path / "ws");
  const auto run = ws::create_run(w.db(), w.root(), a_run());
  const fs::path file = run.folder / "metrics.jsonl";
  ws::metrics_follower follower(file, run.id);
  CHECK(follower.sync(w.db()) == 0);  // no file yet

  append(file, metric_line("train_loss", 50, 1, 2.0) + metric_line("lr", 50, 1, 0.1));
  const std::string half = metric_line("val_loss", 100, 1, 1.5);
  append(file, half.substr(0, 20));  // rank 0 is in the middle of writing this line
  CHECK(follower.sync(w.db()) == 2);
  append(file, half.substr(20) + metric_line("train_loss", 150, 2, 1.0));
  CHECK(follower.sync(w.db()) == 2);
  CHECK(follower.sync(w.db()) == 0);

  auto points = ws::read_metrics(w.db(), run.id);
  REQUIRE(points.size() == 4);
  CHECK(points[0].step == 50);
  CHECK(points[2].name == "val_loss");
  CHECK(points[2].value == 1.5);
  CHECK(points[3].step == 150);

  // A resumed run replaces the file with the lines it keeps: the index follows it.
  {
    std::ofstream out(fs::path{file} += ".new");
    out << metric_line("train_loss", 50, 1, 2.0) << metric_line("train_loss", 150, 2, 0.5);
  }
  fs::rename(fs::path{file} += ".new", file);
  CHECK(follower.sync(w.db()) == 2);
  points = ws::read_metrics(w.db(), run.id);
  REQUIRE(points.size() == 2);
  CHECK(points[1].value == 0.5);

  append(file, "{\"epoch\": 2, \"oops\": true}\n");
  CHECK_THROWS_WITH(follower.sync(w.db()),
                    Catch::Contains(file.string()) && Catch::Contains("is not a metric"));
}

TEST_CASE("a workspace written by schema version 1 opens, upgrades and keeps every record",
          "[upgrade]") {
  temp_dir dir;
  const fs::path fixture = fs::path{TRELLIS_FIXTURES} / "schema_v1";
  const fs::path root = dir.path / "ws";
  fs::create_directories(root);
  fs::copy(fixture / "models", root / "models", fs::copy_options::recursive);
  {
    ws::database db(root / "workspace.db");
    db.exec("PRAGMA foreign_keys = OFF");  // the dump lists tables by name, not by reference
    std::ifstream sql(fixture / "workspace.sql");
    db.exec(std::string{std::istreambuf_iterator<char>{sql}, {}});
    REQUIRE(ws::user_version(db) == 1);
  }
  ws::workspace w(root);
  CHECK(ws::user_version(w.db()) == ws::schema_version);
  CHECK(w.stale_runs().empty());

  const auto runs = ws::list_runs(w.db(), w.root());
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].id == "fixture_1");
  CHECK(runs[0].status == ws::run_status::completed);
  CHECK(runs[0].tags.at("owner") == "fixture");
  CHECK(runs[0].origin.git_commit == "1d1b1e5b0a3c4f6e8d7c6b5a4f3e2d1c0b9a8f7e");
  CHECK_FALSE(runs[0].external_link);  // the columns version 2 added
  CHECK_FALSE(runs[0].resumed_from);
  CHECK(runs[1].status == ws::run_status::failed);
  CHECK(runs[1].failure_reason == "rank 1 failed: exited with code 1");
  CHECK(runs[1].failing_rank == 1);
  const auto metrics = ws::read_metrics(w.db(), "fixture_1");
  CHECK(metrics.size() == 10);
  CHECK(ws::read_metrics(w.db(), "fixture_1", std::string{"rank_images_per_s"}).at(0).rank == 1);

  const auto latest = ws::get_model_version(w.db(), "fixture-model");
  CHECK(latest.version == 2);
  CHECK(latest.parent->text() == "fixture-model:1");
  CHECK_NOTHROW(ws::verified_file(w.root(), latest));
  CHECK_NOTHROW(ws::verified_file(w.root(), ws::get_model_version(w.db(), "fixture-model", 1)));

  // And it takes new records of both versions' kinds.
  auto next = a_run("fixture");
  next.resumed_from = "fixture_2";
  const auto resumed = ws::create_run(w.db(), w.root(), next);
  CHECK(resumed.id == "fixture_3");
  ws::set_external_link(w.db(), resumed.id, "https://ml.azure.com/runs/x");
  const auto read_back = *ws::find_run(w.db(), w.root(), resumed.id);
  CHECK(read_back.resumed_from == "fixture_2");
  CHECK(read_back.external_link == "https://ml.azure.com/runs/x");
}
