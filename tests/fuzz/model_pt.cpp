// read_state_dict (core/serialization/state_dict.hpp) on model.pt files as torch.save writes
// them: a zip (LibTorch's PyTorchStreamReader) whose data.pkl the restricted pickle reader runs
// and whose tensors pickle.hpp makes. An input that starts like a zip is the whole file. Any
// other is a data.pkl, stored here in a zip beside the records data/0 ... data/15 of 64 bytes
// each (every storage of the seeds is 64 bytes), so that its tensors find their storages.
// LibTorch's headers do not compile with clang 14 in C++20 mode, so libFuzzer never runs this:
// the sanitizer build (g++, ASan, UBSan) replays the model.pt and pickle seeds and findings.
#include <caffe2/serialize/inline_container.h>
#include <torch/torch.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "memory_file.hpp"
#include "trellis/core/serialization/state_dict.hpp"

namespace {

std::string zip_around(const std::uint8_t* pickle, std::size_t size) {
  static const auto storage = [] {
    std::array<unsigned char, 64> bytes{};
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<unsigned char>(i * 37);
    return bytes;
  }();
  std::string zip;
  caffe2::serialize::PyTorchStreamWriter writer([&](const void* data, std::size_t n) {
    zip.append(static_cast<const char*>(data), n);
    return n;
  });
  writer.writeRecord("data.pkl", pickle, size);
  for (int i = 0; i < 16; ++i)
    writer.writeRecord("data/" + std::to_string(i), storage.data(), storage.size());
  writer.writeEndOfFile();
  return zip;
}

/// Reads the first and the last byte a tensor views, in instrumented code, so that AddressSanitizer
/// reports a view that reaches past its storage (LibTorch's own reads are not checked).
void touch(const torch::Tensor& t) {
  if (t.numel() == 0) return;
  std::int64_t last = 0;
  for (std::int64_t d = 0; d < t.dim(); ++d) last += (t.size(d) - 1) * t.stride(d);
  const auto* first = static_cast<const volatile char*>(t.data_ptr());
  const auto item = static_cast<std::int64_t>(t.element_size());
  (void)first[0];
  (void)first[last * item + item - 1];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static trellis::fuzz::memory_file file;
  std::filesystem::path path;
  if (size >= 4 && std::memcmp(data, "PK\x03\x04", 4) == 0) {
    path = file.write(data, size);
  } else {
    const std::string zip = zip_around(data, size);
    path = file.write(zip.data(), zip.size());
  }
  try {
    const auto dict = trellis::core::read_state_dict(path);
    for (const auto& entry : dict) touch(entry.value());
    std::printf("  read %zu tensors\n", dict.size());
  } catch (const trellis::core::state_dict_error& e) {
    if (e.source() != path.string()) std::abort();  // errors name the file
    std::printf("  refused: %s\n", e.what());
  }
  return 0;
}
