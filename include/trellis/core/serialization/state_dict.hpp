// State dicts: a module's parameters and buffers by name, in PyTorch's order; saved as the zip
// file torch.save writes (Python's torch.load(path, weights_only=True) reads it), read back from
// files that either side wrote, and loaded into a module with errors that name file and key.
#pragma once
#include <caffe2/serialize/inline_container.h>
#include <torch/torch.h>

#include <cstdint>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "trellis/core/serialization/durable_file.hpp"
#include "trellis/core/serialization/pickle.hpp"

namespace trellis::core {

/// Name -> tensor, parameters and buffers, in the order Python's Module.state_dict() uses.
using state_dict = torch::OrderedDict<std::string, torch::Tensor>;

/// A state dict that cannot be read, written or loaded; names the file (or source) and key.
class state_dict_error : public std::runtime_error {
 public:
  state_dict_error(std::string source, std::string key, const std::string& what)
      : std::runtime_error("[trellis] state dict '" + source + "': " + what),
        source_{std::move(source)},
        key_{std::move(key)} {}
  [[nodiscard]] const std::string& source() const noexcept { return source_; }
  /// The offending entry, or "" when the error is about the whole file.
  [[nodiscard]] const std::string& key() const noexcept { return key_; }

 private:
  std::string source_, key_;
};

namespace state_dict_detail {
inline std::string shape_text(c10::IntArrayRef sizes) {
  std::ostringstream out;
  out << sizes;
  return out.str();
}

// Python's order: a module's own parameters, then its own buffers, then each child's.
inline void collect(const torch::nn::Module& module, const std::string& prefix, state_dict& out) {
  for (const auto& p : module.named_parameters(/*recurse=*/false))
    if (p.value().defined()) out.insert(prefix + p.key(), p.value().detach());
  for (const auto& b : module.named_buffers(/*recurse=*/false))
    if (b.value().defined()) out.insert(prefix + b.key(), b.value().detach());
  for (const auto& child : module.named_children())
    collect(*child.value(), prefix + child.key() + ".", out);
}
}  // namespace state_dict_detail

/// The module's state dict; the tensors alias the module's (detached, no copy).
inline state_dict state_dict_of(const torch::nn::Module& module) {
  state_dict out;
  state_dict_detail::collect(module, "", out);
  return out;
}

/// Writes `dict` as torch.save(OrderedDict) would, through a temporary file and a rename so that
/// a crash never leaves a half-written file under `file`'s name. A full disk or an I/O error is
/// a state_dict_error naming the file and the cause; `file` then keeps its previous content.
inline void save_state_dict(const state_dict& dict, const std::filesystem::path& file) {
  std::unique_ptr<pickle::tensor_dict_writer> pickled;
  try {
    pickled = std::make_unique<pickle::tensor_dict_writer>(dict.pairs());
  } catch (const std::exception& e) {
    throw state_dict_error(file.string(), "", e.what());
  }
  try {
    replacing_file out{file};
    // The zip writer gets every byte accepted: it must never throw, for its destructor writes
    // again (an exception then, during unwinding, would end the process). The first error is
    // kept, and thrown once the writer is done.
    std::exception_ptr failed;
    {
      caffe2::serialize::PyTorchStreamWriter writer([&](const void* data, std::size_t size) {
        if (!failed) try {
            out.write(data, size);
          } catch (...) {
            failed = std::current_exception();
          }
        return size;
      });
      const auto& bytes = pickled->bytes();
      writer.writeRecord("data.pkl", bytes.data(), bytes.size());
      const auto& storages = pickled->storages();
      for (std::size_t i = 0; i < storages.size(); ++i)
        writer.writeRecord("data/" + std::to_string(i), storages[i].data_ptr(),
                           storages[i].nbytes());
      writer.writeEndOfFile();
    }
    if (failed) std::rethrow_exception(failed);
    out.commit();
  } catch (const file_error& e) {
    throw state_dict_error(file.string(), "", "cannot write it: " + file_error::cause(e.code));
  }
}

inline void save_state_dict(const torch::nn::Module& module, const std::filesystem::path& file) {
  save_state_dict(state_dict_of(module), file);
}

/// Reads a file written by save_state_dict or by Python's torch.save(model.state_dict()) (the
/// zip format of torch >= 1.6). Only tensors and dicts are unpickled, never arbitrary objects.
inline state_dict read_state_dict(const std::filesystem::path& file) {
  auto source = file.string();
  if (!std::filesystem::is_regular_file(file)) throw state_dict_error(source, "", "no such file");
  try {
    caffe2::serialize::PyTorchStreamReader zip(source);
    auto [pickle_data, pickle_size] = zip.getRecord("data.pkl");
    auto load = [&](const std::string& key, torch::Dtype dtype, std::int64_t numel) {
      auto [data, size] = zip.getRecord("data/" + key);
      auto item = static_cast<std::size_t>(c10::elementSize(dtype));
      if (numel < 0 || size != static_cast<std::size_t>(numel) * item)
        throw std::runtime_error("storage " + key + " has " + std::to_string(size) +
                                 " bytes, expected " + std::to_string(numel) + " elements");
      auto storage = torch::empty({numel}, torch::TensorOptions().dtype(dtype));
      if (size > 0) std::memcpy(storage.data_ptr(), data.get(), size);
      return storage;
    };
    pickle::reader reader({static_cast<const char*>(pickle_data.get()), pickle_size});
    auto root = reader.run();
    auto* entries = std::get_if<pickle::dict>(&root->v);
    if (!entries) throw std::runtime_error("the file holds no dict of tensors");
    pickle::tensor_maker make_tensor{load};
    state_dict out;
    for (const auto& [key, value] : entries->items) {
      auto* name = std::get_if<std::string>(&key->v);
      if (!name) throw std::runtime_error("a key of the dict is not a string");
      auto* tensor = std::get_if<pickle::tensor_ref>(&value->v);
      if (!tensor) throw state_dict_error(source, *name, "entry '" + *name + "' is not a tensor");
      out.insert(*name, make_tensor(*tensor));
    }
    return out;
  } catch (const state_dict_error&) {
    throw;
  } catch (const c10::Error& e) {
    throw state_dict_error(source, "",
                           std::string("not a torch.save zip file: ") + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw state_dict_error(source, "", e.what());
  }
}

/// How load_state_dict matches entries.
struct load_options {
  /// Entries (of the module or the dict) to leave alone: neither required nor loaded.
  std::function<bool(const std::string&)> skip = {};
  /// How errors name where the entries came from (a file name).
  std::string source = "in memory";
};

/// Copies every entry of `dict` into the module's parameter or buffer of the same name. Strict
/// like Python's load_state_dict: a missing or unexpected entry or a shape mismatch is an
/// error, found before anything is copied, so a failed load leaves the module unchanged.
inline void load_state_dict(torch::nn::Module& module, const state_dict& dict,
                            const load_options& options = {}) {
  auto skipped = [&](const std::string& name) { return options.skip && options.skip(name); };
  auto targets = state_dict_of(module);
  for (const auto& target : targets) {
    if (skipped(target.key())) continue;
    const auto* given = dict.find(target.key());
    if (!given)
      throw state_dict_error(options.source, target.key(),
                             "missing entry '" + target.key() + "' (the model has it with shape " +
                                 state_dict_detail::shape_text(target.value().sizes()) + ")");
    if (given->sizes() != target.value().sizes())
      throw state_dict_error(options.source, target.key(),
                             "entry '" + target.key() + "' has shape " +
                                 state_dict_detail::shape_text(given->sizes()) +
                                 " but the model's is " +
                                 state_dict_detail::shape_text(target.value().sizes()));
  }
  for (const auto& entry : dict)
    if (!skipped(entry.key()) && !targets.contains(entry.key()))
      throw state_dict_error(options.source, entry.key(),
                             "unexpected entry '" + entry.key() +
                                 "' (the model has no parameter or buffer of that name)");
  torch::NoGradGuard no_grad;
  for (auto& target : targets)
    if (!skipped(target.key())) target.value().copy_(dict[target.key()]);
}

inline void load_state_dict(torch::nn::Module& module, const std::filesystem::path& file,
                            load_options options = {}) {
  options.source = file.string();
  load_state_dict(module, read_state_dict(file), options);
}

}  // namespace trellis::core
