// A full disk under a run folder: writing a checkpoint, the model, its summary or a metric (a
// metrics.jsonl line and a TensorBoard event) fails with an error naming the file and the cause,
// leaves no partial file, and keeps the file that was there; nothing aborts the process.
#include <torch/torch.h>  // before Catch: LibTorch's glog would replace Catch's CHECK

#include <catch2/catch.hpp>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "small_disk.hpp"
#include "text_file.hpp"
#include "train_support.hpp"
#include "trellis/core/serialization/state_dict.hpp"
#include "trellis/core/train/checkpoint.hpp"
#include "trellis/core/train/metrics_log.hpp"
#include "trellis/core/train/model_summary.hpp"
#include "trellis/core/train/run_files.hpp"

using namespace trellis::core;
using namespace trellis::core::testing;
namespace fs = std::filesystem;

namespace {
std::string error_of(const std::function<void()>& write) {
  try {
    write();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "no error";
}
}  // namespace

TEST_CASE("a full disk: every write names its file and the cause, and keeps the one before",
          "[durability]") {
  const auto dir = run_dir("full_disk") / "run";
  small_disk disk(dir, 1024);
  torch::manual_seed(1);
  torch::nn::Linear model(200, 400);  // 0.3 MB of weights
  torch::optim::SGD optimizer(model->parameters(), 0.1);
  const run_files files{dir};
  const auto rng = torch::zeros({1, 8}, torch::kUInt8);
  fs::create_directories(files.model.parent_path());  // as the trainer does
  write_checkpoint(files.last, *model, optimizer, {1, 10, {}, 0.5, 0.8}, rng);
  save_state_dict(*model, files.model);
  write_model_summary(files.summary, {"val_accuracy", 1, 1, 10, {{"val_accuracy", 0.8}}, {}, {}});
  metrics_log metrics{dir, 0, 0};
  metrics.write(1, 10, "val_accuracy", 0.8);
  std::vector<std::string> before;
  for (const auto& f : {files.last, files.model, files.summary, files.metrics})
    before.push_back(read_text(f));

  disk.fill(dir / "filler");
  {
    torch::NoGradGuard no_grad;
    model->weight.add_(1.0);  // what would be written now differs from what is there
  }
  // A metric goes to metrics.jsonl and to the TensorBoard event file: either may find the disk
  // full first.
  const std::string events = "events.out.tfevents.";
  const std::vector<std::pair<fs::path, std::function<void()>>> writes{
      {files.last,
       [&] {
         write_checkpoint(files.last, *model, optimizer, {2, 20, {}, 0.4, 0.9}, rng);
       }},
      {files.model, [&] { save_state_dict(*model, files.model); }},
      {files.summary,
       [&] {
         write_model_summary(files.summary, {"val_accuracy", 2, 2, 20, {}, {}, {}});
       }},
      // Lines fill the last page of the file first; some line, soon, needs one more.
      {files.metrics, [&] {
         for (int i = 0; i < 1000; ++i) metrics.write(2, 20, "val_accuracy", 0.9);
       }}};
  for (const auto& [file, write] : writes) {
    INFO(file);
    const auto error = error_of(write);
    if (file == files.metrics)
      CHECK_THAT(error,
                 (Catch::Contains(file.string()) || Catch::Contains((dir / events).string())) &&
                     Catch::Contains("No space left on device (ENOSPC)"));
    else
      CHECK_THAT(error, Catch::Contains(file.string()) &&
                            Catch::Contains("No space left on device (ENOSPC)"));
  }
  for (const auto& e : fs::directory_iterator(dir / "checkpoints"))
    CHECK(e.path().extension() != ".partial");
  for (const auto& e : fs::directory_iterator(dir / "outputs"))
    CHECK(e.path().extension() != ".partial");
  CHECK(read_text(files.last) == before[0]);
  CHECK(read_text(files.model) == before[1]);
  CHECK(read_text(files.summary) == before[2]);
  CHECK(read_checkpoint(files.last).info.epoch == 1);
}
