// ONNX Runtime for the export tests: runs models on images through ort_run.js (Node and the
// onnxruntime-node package that scripts/setup.sh installs), many runs per Node process.
#pragma once
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "run_captured.hpp"
#include "text_file.hpp"

namespace trellis::core::testing {

struct ort_job {
  std::filesystem::path model;
  torch::Tensor images;
};
struct ort_result {
  torch::Tensor output;  ///< undefined when ORT refused the model or the input
  std::string error;
};

inline void write_floats(const std::filesystem::path& file, const torch::Tensor& t) {
  auto data = t.to(torch::kFloat).contiguous();
  std::ofstream(file, std::ios::binary)
      .write(static_cast<const char*>(data.data_ptr()),
             static_cast<std::streamsize>(data.nbytes()));
}

inline torch::Tensor read_floats(const std::filesystem::path& file,
                                 const std::vector<std::int64_t>& dims) {
  auto out = torch::empty(dims, torch::kFloat);
  std::ifstream in(file, std::ios::binary);
  in.read(static_cast<char*>(out.data_ptr()), static_cast<std::streamsize>(out.nbytes()));
  if (!in || in.peek() != std::char_traits<char>::eof())
    throw std::runtime_error(file.string() + " does not hold exactly the output's floats");
  return out;
}

/// Runs every job in one ORT process; `dir` keeps the inputs, outputs and its log.
inline std::vector<ort_result> run_ort(const std::vector<ort_job>& jobs,
                                       const std::filesystem::path& dir) {
  auto package = std::filesystem::path(TRELLIS_ORT_RUN_SCRIPT).parent_path() /
                 "../../../node_modules/onnxruntime-node";
  if (!std::filesystem::exists(package) || !std::filesystem::exists(TRELLIS_NODE))
    throw std::runtime_error("ONNX Runtime is not installed (" +
                             package.lexically_normal().string() +
                             ", Node at '" TRELLIS_NODE "'): run scripts/setup.sh");
  std::filesystem::create_directories(dir);
  nlohmann::json list = nlohmann::json::array();
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    auto input = dir / ("input_" + std::to_string(i) + ".bin");
    write_floats(input, jobs[i].images);
    list.push_back({{"model", std::filesystem::absolute(jobs[i].model).string()},
                    {"input", input.string()},
                    {"dims", jobs[i].images.sizes().vec()},
                    {"output", (dir / ("output_" + std::to_string(i) + ".bin")).string()}});
  }
  std::ofstream(dir / "jobs.json") << list.dump(1);
  auto run = run_captured({{TRELLIS_NODE, TRELLIS_ORT_RUN_SCRIPT, (dir / "jobs.json").string(),
                            (dir / "results.json").string()},
                           {},
                           dir / "ort.log"});
  if (!run.status.success())
    throw std::runtime_error("ort_run.js " + run.status.describe() + ":\n" + run.output);
  auto results = nlohmann::json::parse(read_text(dir / "results.json"));
  std::vector<ort_result> out;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const auto& r = results.at(i);
    if (r.contains("error"))
      out.push_back({{}, r["error"].get<std::string>()});
    else
      out.push_back({read_floats(list[i]["output"].get<std::string>(),
                                 r["dims"].get<std::vector<std::int64_t>>()),
                     ""});
  }
  return out;
}

}  // namespace trellis::core::testing
