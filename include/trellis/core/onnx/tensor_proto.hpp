// Tensors to and from ONNX TensorProto: float32 and int64, the types trellis's graphs hold.
// Written as raw little-endian bytes; read from raw bytes or from the typed fields, as the ONNX
// spec allows either, so a file from another exporter reads too.
#pragma once
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <onnx/onnx_pb.h>
#include <torch/torch.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "trellis/core/onnx/error.hpp"

namespace trellis::core::onnx_export {

static_assert(std::endian::native == std::endian::little,
              "ONNX raw_data is little-endian; trellis writes it by copying memory");

inline ::onnx::TensorProto to_tensor_proto(const std::string& name, const torch::Tensor& value) {
  ::onnx::TensorProto proto;
  proto.set_name(name);
  auto tensor = value.detach().contiguous().cpu();
  if (tensor.scalar_type() == torch::kFloat) {
    proto.set_data_type(::onnx::TensorProto::FLOAT);
  } else if (tensor.scalar_type() == torch::kLong) {
    proto.set_data_type(::onnx::TensorProto::INT64);
  } else {
    throw error(fmt::format("tensor '{}' is {}; only float32 and int64 tensors are written", name,
                            c10::toString(tensor.scalar_type())));
  }
  for (auto size : tensor.sizes()) proto.add_dims(size);
  proto.set_raw_data(std::string(static_cast<const char*>(tensor.data_ptr()), tensor.nbytes()));
  return proto;
}

/// The tensor a TensorProto holds; `where` names it in errors (a file and initializer).
inline torch::Tensor from_tensor_proto(const ::onnx::TensorProto& proto, std::string_view where) {
  std::vector<std::int64_t> sizes(proto.dims().begin(), proto.dims().end());
  std::int64_t count = 1;
  for (auto s : sizes) {
    if (s < 0) throw error(fmt::format("{}: negative dimension {}", where, s));
    count *= s;
  }
  if (proto.data_location() == ::onnx::TensorProto::EXTERNAL)
    throw error(fmt::format("{}: external data is not supported", where));
  auto read = [&](torch::Dtype dtype, const auto& typed) {
    auto tensor = torch::empty(sizes, torch::TensorOptions().dtype(dtype));
    auto bytes = static_cast<std::size_t>(count) * c10::elementSize(dtype);
    if (proto.has_raw_data()) {
      if (proto.raw_data().size() != bytes)
        throw error(fmt::format("{}: raw_data holds {} bytes, its dims {} need {}", where,
                                proto.raw_data().size(), sizes, bytes));
      if (bytes > 0) std::memcpy(tensor.data_ptr(), proto.raw_data().data(), bytes);
    } else {
      if (typed.size() != count)
        throw error(fmt::format("{}: holds {} values, its dims {} need {}", where, typed.size(),
                                sizes, count));
      using value_type = std::remove_cvref_t<decltype(typed.Get(0))>;
      auto* out = static_cast<value_type*>(tensor.data_ptr());
      std::copy(typed.begin(), typed.end(), out);
    }
    return tensor;
  };
  switch (proto.data_type()) {
    case ::onnx::TensorProto::FLOAT:
      return read(torch::kFloat, proto.float_data());
    case ::onnx::TensorProto::INT64:
      return read(torch::kLong, proto.int64_data());
    default:
      throw error(fmt::format("{}: data type {} is not supported (float32 and int64 are)", where,
                              ::onnx::TensorProto::DataType_Name(
                                  static_cast<::onnx::TensorProto::DataType>(proto.data_type()))));
  }
}

}  // namespace trellis::core::onnx_export
