// Checkpoints: model and optimizer state, progress (epoch, step, sampler state), every rank's
// random state and the epoch's validation, in one file of the state-dict format: Python's
// torch.load(weights_only=True) reads it, and its "model.*" entries are the model's state dict.
#pragma once
#include <torch/optim/optimizer.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>
#include <torch/torch.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>

#include "trellis/core/data/sampler.hpp"
#include "trellis/core/serialization/state_dict.hpp"

namespace trellis::core {

struct checkpoint_info {
  std::size_t epoch = 0;  ///< epochs completed
  std::size_t step = 0;   ///< optimizer steps completed
  sampler_state sampler{};
  double val_loss = std::numeric_limits<double>::quiet_NaN();
  double val_accuracy = std::numeric_limits<double>::quiet_NaN();
};

struct checkpoint {
  checkpoint_info info;
  state_dict model;         ///< names as the model's state dict
  torch::Tensor optimizer;  ///< uint8: the optimizer's own serialization
  torch::Tensor rng;        ///< uint8 [world size, n]: row r is rank r's random state
};

namespace train_detail {
inline constexpr std::string_view model_prefix = "model.";

inline torch::Tensor optimizer_bytes(torch::optim::Optimizer& optimizer) {
  torch::serialize::OutputArchive archive;
  optimizer.save(archive);
  std::string bytes;
  archive.save_to([&](const void* data, std::size_t size) {
    bytes.append(static_cast<const char*>(data), size);
    return size;
  });
  auto out = torch::empty({static_cast<std::int64_t>(bytes.size())}, torch::kUInt8);
  if (!bytes.empty()) std::memcpy(out.data_ptr(), bytes.data(), bytes.size());
  return out;
}

inline const torch::Tensor& entry(const state_dict& dict, const std::string& key,
                                  const std::filesystem::path& file) {
  const auto* found = dict.find(key);
  if (!found)
    throw state_dict_error(file.string(), key, "not a trellis checkpoint: no entry '" + key + "'");
  return *found;
}
}  // namespace train_detail

/// Writes atomically (a temporary file, then a rename): a crash leaves the previous checkpoint.
inline void write_checkpoint(const std::filesystem::path& file, const torch::nn::Module& model,
                             torch::optim::Optimizer& optimizer, const checkpoint_info& info,
                             const torch::Tensor& rng) {
  state_dict out;
  for (const auto& item : state_dict_of(model))
    out.insert(std::string(train_detail::model_prefix) + item.key(), item.value());
  out.insert("optimizer", train_detail::optimizer_bytes(optimizer));
  auto integer = [](std::size_t v) { return torch::tensor(static_cast<std::int64_t>(v)); };
  out.insert("trainer.epoch", integer(info.epoch));
  out.insert("trainer.step", integer(info.step));
  out.insert("trainer.sampler_epoch", integer(info.sampler.epoch));
  out.insert("trainer.sampler_position", integer(info.sampler.position));
  out.insert("trainer.val_loss", torch::tensor(info.val_loss, torch::kFloat64));
  out.insert("trainer.val_accuracy", torch::tensor(info.val_accuracy, torch::kFloat64));
  out.insert("rng", rng);
  std::filesystem::create_directories(file.parent_path());
  save_state_dict(out, file);
}

inline checkpoint read_checkpoint(const std::filesystem::path& file) {
  const auto dict = read_state_dict(file);
  using train_detail::entry;
  auto integer = [&](const std::string& key) {
    return static_cast<std::size_t>(entry(dict, key, file).item<std::int64_t>());
  };
  checkpoint c;
  c.info.epoch = integer("trainer.epoch");
  c.info.step = integer("trainer.step");
  c.info.sampler = {integer("trainer.sampler_epoch"), integer("trainer.sampler_position")};
  c.info.val_loss = entry(dict, "trainer.val_loss", file).item<double>();
  c.info.val_accuracy = entry(dict, "trainer.val_accuracy", file).item<double>();
  c.optimizer = entry(dict, "optimizer", file);
  c.rng = entry(dict, "rng", file);
  for (const auto& item : dict)
    if (item.key().starts_with(train_detail::model_prefix))
      c.model.insert(item.key().substr(train_detail::model_prefix.size()), item.value());
  return c;
}

/// Loads the optimizer state of `c` into an optimizer built over the same parameters.
inline void load_optimizer(torch::optim::Optimizer& optimizer, const checkpoint& c,
                           c10::Device device) {
  const auto bytes = c.optimizer.contiguous();
  torch::serialize::InputArchive archive;
  archive.load_from(static_cast<const char*>(bytes.data_ptr()),
                    static_cast<std::size_t>(bytes.numel()), device);
  optimizer.load(archive);
}

}  // namespace trellis::core
