// The pickle (protocol 2) that torch.save writes for a dict of tensors: a writer for a named
// list of tensors, and the tensors that the restricted reader (pickle_reader.hpp: only dicts,
// tuples, lists, scalars, strings and tensors) describes. Storages live outside the pickle.
// Why not LibTorch's own pickler (measured with LibTorch 1.13 and Python's torch 1.13):
// - torch::pickle_load cannot read Python's torch.save(state_dict), a zip with storages: an
//   OrderedDict fails with "isGenericDict() INTERNAL ASSERT FAILED ... Expected GenericDict but
//   got None", a plain dict with "Unknown opcode for unpickling at 0x73" (SETITEM);
// - torch::pickle_save tags dicts with torch.jit._pickle.restore_type_tag, which Python's
//   torch.load(weights_only=True) refuses: "Unsupported class torch.jit._pickle.restore_type_tag".
#pragma once
#include <torch/torch.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <functional>
#include <iterator>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "trellis/core/serialization/pickle_reader.hpp"

namespace trellis::core::pickle {

static_assert(std::endian::native == std::endian::little,
              "trellis writes tensor storages in native byte order, which torch.save calls little");

/// The dtype of each storage class in storage_names, in its order.
inline constexpr torch::Dtype storage_dtypes[] = {
    torch::kFloat, torch::kDouble, torch::kHalf,         torch::kBFloat16,
    torch::kLong,  torch::kInt,    torch::kShort,        torch::kChar,
    torch::kByte,  torch::kBool,   torch::kComplexFloat, torch::kComplexDouble};
static_assert(std::size(storage_dtypes) == std::size(storage_names));

/// The storage class name torch.save uses for a dtype ("FloatStorage"), or "" if none.
inline std::string_view storage_name(torch::Dtype dtype) {
  for (std::size_t i = 0; i < std::size(storage_dtypes); ++i)
    if (storage_dtypes[i] == dtype) return storage_names[i];
  return "";
}

inline std::optional<torch::Dtype> storage_dtype(std::string_view name) {
  for (std::size_t i = 0; i < std::size(storage_names); ++i)
    if (storage_names[i] == name) return storage_dtypes[i];
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Writing

/// Pickles `entries` as collections.OrderedDict(name -> tensor) exactly the way torch.save does
/// for a state dict. Storage i is `storages[i]` (contiguous, CPU); the caller writes their bytes
/// to the records "data/<i>".
class tensor_dict_writer {
 public:
  explicit tensor_dict_writer(const std::vector<std::pair<std::string, torch::Tensor>>& entries) {
    emit(op::proto);
    out_.push_back('\x02');  // protocol 2
    ordered_dict();
    emit(op::mark);
    for (const auto& [name, tensor] : entries) {
      unicode(name);
      push_tensor(tensor);
    }
    emit(op::setitems);
    emit(op::stop);
  }
  [[nodiscard]] const std::string& bytes() const { return out_; }
  [[nodiscard]] const std::vector<torch::Tensor>& storages() const { return storages_; }

 private:
  void emit(char code) { out_.push_back(code); }
  void global(std::string_view module, std::string_view name) {
    emit(op::global);
    (out_ += module) += '\n';
    (out_ += name) += '\n';
  }
  void ordered_dict() {
    global("collections", "OrderedDict");
    emit(op::empty_tuple);
    emit(op::reduce);
  }
  template <class T>
  void raw(T value) {
    char buffer[sizeof(T)];
    std::memcpy(buffer, &value, sizeof(T));
    out_.append(buffer, sizeof(T));
  }
  void unicode(std::string_view text) {
    emit(op::binunicode);
    raw(static_cast<std::uint32_t>(text.size()));
    out_ += text;
  }
  void integer(std::int64_t value) {
    if (value >= std::numeric_limits<std::int32_t>::min() &&
        value <= std::numeric_limits<std::int32_t>::max()) {
      emit(op::binint);
      raw(static_cast<std::int32_t>(value));
    } else {  // 8 little-endian two's-complement bytes
      emit(op::long1);
      out_.push_back('\x08');
      raw(value);
    }
  }
  void int_tuple(c10::IntArrayRef values) {
    emit(op::mark);
    for (auto v : values) integer(v);
    emit(op::tuple);
  }
  // torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)
  void push_tensor(const torch::Tensor& tensor) {
    auto name = storage_name(tensor.scalar_type());
    if (name.empty())
      throw std::runtime_error("cannot save a tensor of dtype " +
                               std::string(c10::toString(tensor.scalar_type())));
    auto storage = tensor.detach().to(torch::kCPU).contiguous();
    auto key = std::to_string(storages_.size());
    storages_.push_back(storage);
    global("torch._utils", "_rebuild_tensor_v2");
    emit(op::mark);
    emit(op::mark);  // persistent id: ('storage', torch.<T>Storage, key, 'cpu', numel)
    unicode("storage");
    global("torch", name);
    unicode(key);
    unicode("cpu");
    integer(storage.numel());
    emit(op::tuple);
    emit(op::binpersid);
    integer(0);
    int_tuple(storage.sizes());
    int_tuple(storage.strides());
    emit(op::newfalse);  // requires_grad: a state dict holds no autograd state
    ordered_dict();
    emit(op::tuple);
    emit(op::reduce);
  }

  std::string out_;
  std::vector<torch::Tensor> storages_;
};

// ---------------------------------------------------------------------------------------------
// Reading: pickle_reader.hpp runs the pickle; here its tensor_refs become tensors.

/// Returns the whole storage `key` (1-D, `numel` elements of `dtype`).
using storage_loader =
    std::function<torch::Tensor(const std::string& key, torch::Dtype dtype, std::int64_t numel)>;

/// Makes the tensors that tensor_refs describe, loading each storage once.
class tensor_maker {
 public:
  explicit tensor_maker(storage_loader load) : load_{std::move(load)} {}

  torch::Tensor operator()(const tensor_ref& t) {
    const auto& [key, type, numel] = t.storage;
    const auto dtype = storage_dtype(type);
    if (!dtype) throw std::runtime_error("unsupported storage type " + type);
    auto it = storages_.find(key);
    if (it == storages_.end()) it = storages_.emplace(key, load_(key, *dtype, numel)).first;
    const torch::Tensor& storage = it->second;
    if (storage.scalar_type() != *dtype || storage.numel() != numel)
      throw std::runtime_error("malformed pickle: storage " + key +
                               " is declared twice, with different types or sizes");
    for (auto size : t.sizes)
      if (size == 0) return torch::empty(t.sizes, storage.options());
    return storage.as_strided(t.sizes, t.strides, t.offset);
  }

 private:
  storage_loader load_;
  std::unordered_map<std::string, torch::Tensor> storages_;
};

}  // namespace trellis::core::pickle
