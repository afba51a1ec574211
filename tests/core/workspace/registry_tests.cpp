// The model registry on real files: versions and their cards, a tampered file refused, four
// processes registering one name at once, a registration killed with -9 at each of its steps,
// and `trellis models import` of a state dict written by Python's torch.save.
#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <trellis/core/process/child.hpp>
#include <trellis/workspace/workspace.hpp>
#include <vector>

#include <nlohmann/json.hpp>

#include "run_captured.hpp"
#include "temp_dir.hpp"
#include "text_file.hpp"

namespace fs = std::filesystem;
namespace ws = trellis::workspace;
namespace process = trellis::core::process;
using trellis::core::testing::read_text;
using trellis::core::testing::run_captured;
using trellis::test::temp_dir;

namespace {
void write_file(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << text;
}

ws::registration a_registration(const fs::path& model_file, const std::string& name = "m") {
  ws::registration r;
  r.name = name;
  r.description = "a test model";
  r.tags = {{"stage", "test"}};
  r.arch = {"resnet18", 5, 1, 32, 32};
  r.metrics = {{"val_accuracy", 0.75}};
  r.files = {{"model.pt", model_file}};
  return r;
}

/// Every version the database lists is complete: its files match their recorded size and
/// SHA-256 and its folder's model.json is the database's record. Returns the versions.
std::vector<std::int64_t> check_consistent(ws::workspace& w, const std::string& name) {
  std::vector<std::int64_t> versions;
  for (const auto& card : ws::list_versions(w.db(), name)) {
    for (const auto& f : card.files) CHECK_NOTHROW(ws::verified_file(w.root(), card, f.path));
    const auto on_disk = nlohmann::json::parse(
        read_text(ws::version_folder(w.root(), card.ref()) / "model.json"));
    CHECK(on_disk == ws::to_json(card));
    versions.push_back(card.version);
  }
  return versions;
}

/// A torchvision resnet18 state dict for 1-channel images and 5 classes, saved by Python.
fs::path python_state_dict(const fs::path& dir, const std::string& classes = "5") {
  const fs::path file = dir / ("resnet18-" + classes + ".pt");
  if (fs::exists(file)) return file;
  const auto run = run_captured({{TRELLIS_PYTHON, TRELLIS_STATE_DICT_SCRIPT, file.string(),
                                  "resnet18", "1", classes},
                                 {},
                                 dir / "python.log",
                                 false});
  INFO(run.output);
  REQUIRE(run.status.success());
  return file;
}

std::vector<std::string> import_command(const fs::path& workspace, const fs::path& file,
                                        const std::string& name = "imported") {
  return {TRELLIS_CLI,        "--workspace=" + workspace.string(),
          "models",           "import",
          name,               "--file=" + file.string(),
          "--model=resnet18", "--classes=5",
          "--input-shape=1,32,32"};
}
}  // namespace

TEST_CASE("registered versions count up, with their cards, files and lineage", "[registry]") {
  temp_dir dir;
  ws::workspace w(dir.path / "ws");
  write_file(dir.path / "a.pt", "weights of a");
  write_file(dir.path / "b.pt", "weights of b");
  const auto v1 = ws::register_model(w.db(), w.root(), a_registration(dir.path / "a.pt"));
  auto second = a_registration(dir.path / "b.pt");
  second.parent = v1.ref();
  second.files.emplace_back("extra/notes.txt", dir.path / "a.pt");
  const auto v2 = ws::register_model(w.db(), w.root(), second);
  CHECK(v1.version == 1);
  CHECK(v2.version == 2);
  CHECK(check_consistent(w, "m") == std::vector<std::int64_t>{1, 2});

  const auto latest = ws::get_model_version(w.db(), "m");
  CHECK(latest.version == 2);
  REQUIRE(latest.parent);
  CHECK(latest.parent->text() == "m:1");
  CHECK(latest.arch.describe() == "resnet18 for input [1, 32, 32] (5 classes)");
  CHECK(latest.metrics.at("val_accuracy") == 0.75);
  CHECK(latest.file("model.pt")->sha256 == ws::sha256_hex("weights of b"));
  CHECK(latest.file("model.pt")->size == 12);
  CHECK(ws::get_model_version(w.db(), "m", 1).file("model.pt")->sha256 ==
        ws::sha256_hex("weights of a"));
  CHECK(ws::list_models(w.db()).at(0).versions == 2);

  const auto files = ws::download_model(w.root(), latest, dir.path / "down");
  CHECK(read_text(dir.path / "down" / "model.pt") == "weights of b");
  CHECK(read_text(dir.path / "down" / "extra" / "notes.txt") == "weights of a");
  CHECK(nlohmann::json::parse(read_text(dir.path / "down" / "model.json"))["version"] == 2);
  CHECK(files.size() == 3);

  CHECK_THROWS_WITH(ws::get_model_version(w.db(), "m", 3),
                    "model 'm' has no version 3 (its versions are 1 to 2)");
  CHECK_THROWS_WITH(ws::get_model_version(w.db(), "nothing"),
                    Catch::Contains("no model 'nothing' is registered in"));
  auto orphan = a_registration(dir.path / "a.pt");
  orphan.parent = ws::model_ref{"m", 7};
  CHECK_THROWS_WITH(ws::register_model(w.db(), w.root(), orphan),
                    "model 'm': its parent m:7 is not registered");
  CHECK_THROWS_WITH(ws::register_model(w.db(), w.root(), a_registration(dir.path / "a.pt", "a b")),
                    Catch::Contains("model name 'a b'"));
  CHECK(check_consistent(w, "m").size() == 2);  // the refused ones left nothing
}

TEST_CASE("a file changed after registration is refused, never used", "[registry]") {
  temp_dir dir;
  ws::workspace w(dir.path / "ws");
  write_file(dir.path / "a.pt", "weights of a");
  const auto card = ws::register_model(w.db(), w.root(), a_registration(dir.path / "a.pt"));
  const fs::path stored = ws::version_folder(w.root(), card.ref()) / "model.pt";
  write_file(stored, "weights of A");  // same size, other bytes
  try {
    ws::verified_file(w.root(), card);
    FAIL("a tampered file was accepted");
  } catch (const ws::registry_error& e) {
    CHECK_THAT(e.what(), Catch::Contains("model m:1: '" + stored.string() +
                                         "' was changed after it was registered") &&
                             Catch::Contains(ws::sha256_hex("weights of A")) &&
                             Catch::Contains(ws::sha256_hex("weights of a")) &&
                             Catch::Contains("refusing to use it"));
  }
  CHECK_THROWS_AS(ws::download_model(w.root(), card, dir.path / "down"), ws::registry_error);
  fs::remove(stored);
  CHECK_THROWS_WITH(ws::verified_file(w.root(), card), Catch::Contains("is missing"));
}

TEST_CASE("trellis models import registers a state dict saved by Python's torch.save",
          "[import]") {
  temp_dir dir;
  const auto file = python_state_dict(dir.path);
  const fs::path workspace = dir.path / "ws";
  const auto imported =
      run_captured({import_command(workspace, file), {}, dir.path / "import.log", false});
  INFO(imported.output);
  REQUIRE(imported.status.success());
  CHECK_THAT(imported.output,
             Catch::Contains("registered imported:1 (resnet18 for input [1, 32, 32] (5 classes))"));
  const auto shown = run_captured({{TRELLIS_CLI, "--workspace=" + workspace.string(), "models",
                                    "show", "imported:1", "--json"},
                                   {},
                                   dir.path / "show.log",
                                   false});
  REQUIRE(shown.status.success());
  const auto card = nlohmann::json::parse(shown.output);
  CHECK(card["architecture"]["model"] == "resnet18");
  CHECK(card["run"].is_null());
  CHECK(card["files"][0]["sha256"] == ws::sha256_of_file(file));

  // A state dict for 7 classes does not load as 5: refused, naming the entry, nothing registered.
  const auto wrong = run_captured({import_command(workspace, python_state_dict(dir.path, "7")),
                                   {},
                                   dir.path / "wrong.log",
                                   false});
  CHECK(wrong.status.code == 1);
  CHECK_THAT(wrong.output,
             Catch::Contains("entry 'fc.weight' has shape [7, 512] but the model's is [5, 512]"));
  ws::workspace w(workspace);
  CHECK(check_consistent(w, "imported") == std::vector<std::int64_t>{1});
}

TEST_CASE("four processes registering one name at once get versions 1 to 4", "[concurrent]") {
  temp_dir dir;
  const auto file = python_state_dict(dir.path);
  const fs::path workspace = dir.path / "ws";
  { ws::workspace create(workspace); }  // the database exists before they race for versions
  std::vector<process::child> importers;
  for (int i = 0; i < 4; ++i)
    importers.push_back(process::child::spawn({import_command(workspace, file, "shared"),
                                               {},
                                               dir.path / fmt::format("import{}.log", i)}));
  std::set<std::string> outputs;
  for (int i = 0; i < 4; ++i) {
    const auto status = importers[static_cast<std::size_t>(i)].wait();
    const auto output = read_text(dir.path / fmt::format("import{}.log", i));
    INFO(output);
    CHECK(status.success());
    outputs.insert(output.substr(0, output.find(' ', 11)));  // "registered shared:N"
  }
  CHECK(outputs == std::set<std::string>{"registered shared:1", "registered shared:2",
                                         "registered shared:3", "registered shared:4"});
  ws::workspace w(workspace);
  CHECK(check_consistent(w, "shared") == std::vector<std::int64_t>{1, 2, 3, 4});
}

TEST_CASE("a registration killed with -9 at any step leaves a complete version or none",
          "[crash]") {
  temp_dir dir;
  const auto file = python_state_dict(dir.path);
  const fs::path workspace = dir.path / "ws";
  // Whether the version exists after a kill at each step: only once the commit is done.
  const std::vector<std::pair<std::string, bool>> steps{{"registry.staged", false},
                                                        {"registry.described", false},
                                                        {"registry.inserted", false},
                                                        {"registry.renamed", false},
                                                        {"registry.committed", true}};
  std::int64_t expected = 0;
  for (const auto& [step, kept] : steps) {
    INFO(step);
    const auto killed = run_captured({import_command(workspace, file, "fragile"),
                                      {{"TRELLIS_TEST_CRASH_AT", step}},
                                      dir.path / "killed.log",
                                      false});
    INFO(killed.output);
    REQUIRE(killed.status.signal == SIGKILL);
    if (kept) ++expected;
    {
      ws::workspace w(workspace);
      CHECK(check_consistent(w, "fragile").size() == static_cast<std::size_t>(expected));
    }
    // The next registration works and takes the next number.
    const auto next = run_captured(
        {import_command(workspace, file, "fragile"), {}, dir.path / "next.log", false});
    INFO(next.output);
    REQUIRE(next.status.success());
    ++expected;
    CHECK_THAT(next.output, Catch::StartsWith(fmt::format("registered fragile:{} ", expected)));
    ws::workspace w(workspace);
    CHECK(check_consistent(w, "fragile").size() == static_cast<std::size_t>(expected));
    // No staging folder of a killed registration is left behind by the next one.
    for (const auto& entry : fs::directory_iterator(workspace / "models" / "fragile"))
      CHECK_FALSE(entry.path().filename().string().starts_with(".staging-"));
  }
}
