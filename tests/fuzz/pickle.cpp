// Fuzzes the restricted pickle reader (core/serialization/pickle_reader.hpp) on data.pkl bytes,
// the pickle inside a model.pt file. Whatever it reads, every tensor it describes must lie
// within its storage, checked here with 128-bit arithmetic. (LibTorch's headers do not compile
// with clang 14 in C++20 mode: the whole model.pt path, zip and tensors included, is replayed
// from these seeds and findings by the sanitizer build's model_pt.replay instead.)
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <set>
#include <stdexcept>
#include <string_view>
#include <variant>

#include "trellis/core/serialization/pickle_reader.hpp"

namespace {

namespace pickle = trellis::core::pickle;

void require(bool ok) {
  if (!ok) std::abort();
}

void check_bounds(const pickle::tensor_ref& t) {
  require(t.offset >= 0 && t.storage.numel >= 0 && t.sizes.size() == t.strides.size());
  for (std::size_t i = 0; i < t.sizes.size(); ++i) {
    require(t.sizes[i] >= 0 && t.strides[i] >= 0);
    if (t.sizes[i] == 0) return;  // no element: nothing to read, wherever the strides point
  }
  __int128 last = t.offset;
  for (std::size_t i = 0; i < t.sizes.size(); ++i) {
    last += static_cast<__int128>(t.sizes[i] - 1) * t.strides[i];
    require(last < t.storage.numel);  // also stops before 128 bits could overflow
  }
  require(last < t.storage.numel);
}

/// Visits every value reachable from `v` once (memo entries can share values or form cycles).
void check(const pickle::value* v, std::set<const pickle::value*>& seen) {
  if (!v || !seen.insert(v).second) return;
  if (const auto* t = std::get_if<pickle::tensor_ref>(&v->v)) return check_bounds(*t);
  if (const auto* items = std::get_if<pickle::tuple>(&v->v))
    for (const auto& item : *items) check(item, seen);
  if (const auto* l = std::get_if<pickle::list>(&v->v))
    for (const auto& item : l->items) check(item, seen);
  if (const auto* d = std::get_if<pickle::dict>(&v->v))
    for (const auto& [key, value] : d->items) {
      check(key, seen);
      check(value, seen);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    pickle::reader reader{{reinterpret_cast<const char*>(data), size}};
    std::set<const pickle::value*> seen;
    check(reader.run(), seen);
  } catch (const std::runtime_error&) {
  }
  return 0;
}
