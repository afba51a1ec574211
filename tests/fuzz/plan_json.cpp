// Fuzzes json_writer (plan/json.hpp), which writes plan.json: a document of objects, arrays,
// strings (any bytes), doubles (any bit pattern), integers, booleans and nulls is written and
// parsed back with nlohmann-json, which must read what was written, in the same order. JSON has
// no NaN or infinity and its strings are UTF-8, so the writer's contract is: non-finite numbers
// are written as null, and bytes that are not UTF-8 as U+FFFD; the file stays JSON.
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>
#include <nlohmann/json.hpp>

#include "json_text.hpp"
#include "trellis/plan/json.hpp"

namespace {

using json = nlohmann::ordered_json;

void require(bool ok) {
  if (!ok) std::abort();
}

/// Writes values through json_writer and, alongside, builds what they must read back as
/// (`want`; its strings keep the bytes written, compared by `same` below).
class document {
 public:
  explicit document(FuzzedDataProvider& in) : in_{in} {}

  void write() {
    out_.begin_object();
    open_.push_back(&want_);
    fill(0);
    out_.end_object();
  }
  [[nodiscard]] const std::string& text() const { return out_.str(); }
  [[nodiscard]] const json& want() const { return want_; }

 private:
  // The slot for the next value: a new element of an array, or the value of a new key. Keys
  // are UTF-8 (they go through the same quoting as strings, which cover the other bytes).
  json& slot() {
    json& container = *open_.back();
    if (container.is_array()) return container.emplace_back();
    std::string key = in_.ConsumeRandomLengthString(32);
    if (!trellis::fuzz::is_utf8(key)) key = "key " + std::to_string(keys_);
    ++keys_;
    out_.key(key);
    return container[key];  // a repeated key: readers keep its last value, at its first place
  }

  void fill(int depth) {
    while (in_.remaining_bytes() > 0) {
      const int what = in_.ConsumeIntegralInRange(0, 7);
      if (what == 7 && depth > 0) return;  // close this level
      json& v = slot();
      switch (what) {
        case 0:
          if (depth < 32) {
            const bool object = in_.ConsumeBool();
            v = object ? json::object() : json::array();
            object ? out_.begin_object() : out_.begin_array();
            open_.push_back(&v);
            fill(depth + 1);
            open_.pop_back();
            object ? out_.end_object() : out_.end_array();
            break;
          }
          [[fallthrough]];
        case 1: {
          const std::string s = in_.ConsumeRandomLengthString(256);
          out_.value(s);
          v = s;
          break;
        }
        case 2: {
          const auto d = std::bit_cast<double>(in_.ConsumeIntegral<std::uint64_t>());
          out_.value(d);
          v = std::isfinite(d) ? json(d) : json(nullptr);
          break;
        }
        case 3: {
          const auto i = in_.ConsumeIntegral<std::int64_t>();
          out_.value(i);
          v = i;
          break;
        }
        case 4: {
          const auto u = in_.ConsumeIntegral<std::uint64_t>();
          out_.value(u);
          v = u;
          break;
        }
        case 5: {
          const bool b = in_.ConsumeBool();
          out_.value(b);
          v = b;
          break;
        }
        default:
          out_.null();
          v = nullptr;
      }
    }
  }

  FuzzedDataProvider& in_;
  trellis::plan::json_writer out_;
  json want_ = json::object();
  std::vector<json*> open_;  // the containers being written, innermost last
  std::size_t keys_ = 0;
};

/// Whether what was read (`got`) is what was written (`want`): the same keys in the same
/// order, numbers equal as doubles, strings equal where they were UTF-8.
void same(const json& got, const json& want) {
  if (want.is_string())
    return require(trellis::fuzz::reads_back(got, want.get_ref<const std::string&>()));
  if (want.is_number_float())
    return require(got.is_number() && got.get<double>() == want.get<double>());
  if (want.is_object() || want.is_array()) {
    require(got.type() == want.type() && got.size() == want.size());
    for (auto g = got.begin(), w = want.begin(); w != want.end(); ++g, ++w) {
      if (want.is_object()) require(g.key() == w.key());
      same(*g, *w);
    }
    return;
  }
  require(got == want);  // integers, booleans, null
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in{data, size};
  document doc{in};
  doc.write();
  same(json::parse(doc.text()), doc.want());  // parse throws, and so crashes, on invalid JSON
  return 0;
}
