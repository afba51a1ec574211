// event_writer against an independent reader (read_events.py: its own CRC-32C, TensorBoard's
// messages built from a descriptor in Python): what was written reads back exactly, a killed
// writer keeps every scalar it returned from, a resumed run starts a session; and what flushing
// each record costs.
#include "trellis/core/tensorboard/event_writer.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bit>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "run_captured.hpp"
#include "scratch_dir.hpp"

namespace {

namespace fs = std::filesystem;
namespace tb = trellis::core::tensorboard;
using trellis::core::testing::run_captured;
using trellis::core::testing::scratch_dir;

struct scalar {
  std::string tag;
  std::int64_t step;
  double value;
  double wall_time;
};

/// Learning curves as a trainer logs them, then the values a float32 field makes hard: zero and
/// negative zero (proto3 drops defaults unless the field is in a oneof), NaN, infinities, a
/// subnormal, a value float32 must round, a step past 32 bits.
std::vector<scalar> sample_scalars() {
  std::vector<scalar> out;
  const std::vector<std::string> tags = {"train_loss", "val_loss", "val_accuracy", "lr"};
  for (std::int64_t step = 0; step < 30; ++step)
    for (std::size_t t = 0; t < tags.size(); ++t)
      out.push_back({tags[t], step * 469, 0.05 + (t + 1) * std::exp(-0.13 * step) / 3.0,
                     1733459012.25 + step * 17.123456789 + t * 0.001});
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<std::pair<std::string, double>> edges = {
      {"edge/zero", 0.0},    {"edge/negative_zero", -0.0},  {"edge/nan", std::nan("")},
      {"edge/inf", inf},     {"edge/minus_inf", -inf},      {"edge/subnormal", 1e-45},
      {"edge/rounded", 0.1}, {"edge/negative", -123456.789}};
  for (const auto& [tag, value] : edges)
    out.push_back({tag, std::int64_t{1} << 40, value, 1733460000.0 + out.size()});
  return out;
}

/// What read_events.py read from `file`; fails the test when the reader rejects the file.
nlohmann::json read_back(const fs::path& file) {
  const auto json = file.parent_path() / "read_events.json";
  const auto run =
      run_captured({.argv = {TRELLIS_PYTHON, TRELLIS_READ_EVENTS, file.string(), json.string()},
                    .env = {},
                    .log = file.parent_path() / "read_events.log"});
  INFO(run.output);
  REQUIRE(run.status.success());
  return nlohmann::json::parse(trellis::core::testing::read_text(json))["events"];
}

double wall_time_of(const nlohmann::json& event) {
  return std::strtod(event["wall_time"].get<std::string>().c_str(), nullptr);
}

void check_version_record(const nlohmann::json& event) {
  CHECK(event["what"] == "file_version");
  CHECK(event["file_version"] == "brain.Event:2");
}

void check_scalar(const nlohmann::json& event, const scalar& expected) {
  INFO(expected.tag << " at step " << expected.step);
  REQUIRE(event["what"] == "summary");
  REQUIRE(event["values"].size() == 1);
  const auto& value = event["values"][0];
  CHECK(value["tag"] == expected.tag);
  CHECK(value["kind"] == "simple_value");
  CHECK(event["step"] == expected.step);
  CHECK(wall_time_of(event) == expected.wall_time);
  const auto bits = value["float_bits"].get<std::uint32_t>();
  if (std::isnan(expected.value))
    CHECK(std::isnan(std::bit_cast<float>(bits)));
  else
    CHECK(bits == std::bit_cast<std::uint32_t>(static_cast<float>(expected.value)));
}

fs::path only_event_file(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().filename().string().starts_with("events.out.tfevents."))
      files.push_back(entry);
  REQUIRE(files.size() == 1);
  return files.front();
}

}  // namespace

TEST_CASE("scalars read back exactly, under TensorBoard's file name", "[roundtrip]") {
  const auto dir = scratch_dir("tensorboard", "roundtrip");
  const auto scalars = sample_scalars();
  const double before = tb::unix_time_now();
  fs::path file;
  {
    tb::event_writer writer(dir / "tensorboard");
    for (const auto& s : scalars) writer.scalar(s.tag, s.step, s.value, s.wall_time);
    writer.scalar("default_wall_time", 7, 1.5);
    file = writer.file();
  }
  const double after = tb::unix_time_now();

  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  const std::regex name(fmt::format(R"(events\.out\.tfevents\.(\d{{10}})\.{}\.{}\.\d+)",
                                    std::regex_replace(host, std::regex(R"([.\-])"), R"(\$&)"),
                                    ::getpid()));
  std::smatch match;
  const auto file_name = file.filename().string();
  INFO(file_name);
  REQUIRE(std::regex_match(file_name, match, name));
  CHECK(std::stod(match[1]) >= std::floor(before));
  CHECK(std::stod(match[1]) <= after);

  const auto events = read_back(file);
  REQUIRE(events.size() == scalars.size() + 2);
  check_version_record(events[0]);
  CHECK(wall_time_of(events[0]) >= before);
  for (std::size_t i = 0; i < scalars.size(); ++i) check_scalar(events[i + 1], scalars[i]);
  const auto& last = events.back();
  check_scalar(last, {"default_wall_time", 7, 1.5, wall_time_of(last)});
  CHECK(wall_time_of(last) >= before);
  CHECK(wall_time_of(last) <= after);
}

TEST_CASE("two writers in one second write two files", "[roundtrip]") {
  const auto dir = scratch_dir("tensorboard", "two_writers");
  tb::event_writer first(dir), second(dir);
  CHECK(first.file() != second.file());
  CHECK(first.file().parent_path() == second.file().parent_path());
}

TEST_CASE("a writer killed with SIGKILL keeps every scalar it returned from", "[crash]") {
  const auto dir = scratch_dir("tensorboard", "crash");
  const auto scalars = sample_scalars();
  constexpr std::size_t before_kill = 25;
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {  // no destructor, no flush: the process is gone the moment scalar() returns
    tb::event_writer writer(dir);
    for (std::size_t i = 0; i < before_kill; ++i)
      writer.scalar(scalars[i].tag, scalars[i].step, scalars[i].value, scalars[i].wall_time);
    ::raise(SIGKILL);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(WTERMSIG(status) == SIGKILL);

  const auto file = only_event_file(dir);
  CHECK(file.filename().string().find(fmt::format(".{}.", pid)) != std::string::npos);
  const auto events = read_back(file);
  REQUIRE(events.size() == before_kill + 1);
  check_version_record(events[0]);
  for (std::size_t i = 0; i < before_kill; ++i) check_scalar(events[i + 1], scalars[i]);
}

TEST_CASE("a resumed run's file starts a session at the step it resumes at", "[resume]") {
  const auto dir = scratch_dir("tensorboard", "resume");
  constexpr std::int64_t resumed_at = 5 * 469;
  const scalar next{"train_loss", resumed_at, 0.42, 1733459100.5};
  {
    tb::event_writer writer(dir, resumed_at);
    writer.scalar(next.tag, next.step, next.value, next.wall_time);
  }
  const auto events = read_back(only_event_file(dir));
  REQUIRE(events.size() == 3);
  check_version_record(events[0]);
  CHECK(events[1]["what"] == "session_log");
  CHECK(events[1]["status"] == 1);  // SessionLog.START
  CHECK(events[1]["step"] == resumed_at);
  check_scalar(events[2], next);
}

// Not a pass/fail timing: prints what a scalar costs when each record goes to the file (the
// writer's way), when records are only encoded in memory (the floor of any batching, flushed
// once an epoch), and with fdatasync per record; and checks the writer's bytes are exactly the
// framed encodings.
TEST_CASE("what flushing every record costs", "[flush_cost]") {
  using clock = std::chrono::steady_clock;
  const auto dir = scratch_dir("tensorboard", "flush_cost");
  const auto scalars = sample_scalars();
  constexpr int rounds = 20;  // 20 x 128 scalars
  const auto micros_per_scalar = [&](clock::duration d, std::size_t n) {
    return std::chrono::duration<double, std::micro>(d).count() / static_cast<double>(n);
  };

  tb::proto::Event event;
  std::string bytes, encoded;
  auto start = clock::now();
  for (int r = 0; r < rounds; ++r)
    for (const auto& s : scalars) {
      tb::scalar_event(event, s.tag, s.step, s.value, s.wall_time);
      event.SerializeToString(&bytes);
      tb::append_record(encoded, bytes);
    }
  const double in_memory = micros_per_scalar(clock::now() - start, rounds * scalars.size());

  tb::event_writer writer(dir);
  const auto header_bytes = fs::file_size(writer.file());
  start = clock::now();
  for (int r = 0; r < rounds; ++r)
    for (const auto& s : scalars) writer.scalar(s.tag, s.step, s.value, s.wall_time);
  const double per_record = micros_per_scalar(clock::now() - start, rounds * scalars.size());
  CHECK(fs::file_size(writer.file()) == header_bytes + encoded.size());
  CHECK(trellis::core::testing::read_text(writer.file()).substr(header_bytes) == encoded);

  tb::event_writer synced(dir);
  start = clock::now();
  for (const auto& s : scalars) {
    synced.scalar(s.tag, s.step, s.value, s.wall_time);
    synced.sync();
  }
  const double with_sync = micros_per_scalar(clock::now() - start, scalars.size());

  fmt::print(
      "microseconds per scalar: encoded in memory {:.2f}, written per record {:.2f}, written "
      "and fdatasync'd per record {:.1f} (in {})\n",
      in_memory, per_record, with_sync, dir.string());
}
