// Fuzzes `--set`: apply_setting (cli/settings.hpp) on a pipeline with all seven stages, and
// parse_value (plan/field_values.hpp) for every field type a stage declares. The input is a
// byte that picks a field type, then an assignment stage.field=value. Whatever the assignment
// sets, the plan must still be valid JSON; the value, parsed as the chosen type, must write to
// plan.json and read back (nlohmann-json) as the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "json_text.hpp"
#include "pipeline.hpp"
#include "trellis/cli/settings.hpp"
#include "trellis/plan/field_values.hpp"
#include "trellis/plan/write_plan.hpp"

namespace {

using trellis::plan::bad_value;
using trellis::plan::to_std;
using json = nlohmann::ordered_json;

void require(bool ok) {
  if (!ok) std::abort();
}

template <class T>
json written(const T& v) {
  trellis::plan::json_writer out;
  trellis::plan::write_value(out, v);
  return json::parse(out.str());  // throws, and so crashes, on invalid JSON
}

/// Parses `s` as a T; when that succeeds, `check` compares the value with `s` and with what
/// plan.json says of it.
template <class T, class Check>
void field(std::string_view s, Check check) {
  T v{};
  try {
    trellis::plan::parse_value(s, v);
  } catch (const bad_value&) {
    return;
  }
  check(v, written(v));
}

template <class I>
void whole_number(std::string_view s) {
  field<I>(s, [](I v, const json& j) { require(j.get<I>() == v); });
}

void parse_values(unsigned char kind, std::string_view s) {
  switch (kind % 8) {
    case 0:  // text: every byte kept
      return field<trellis::text>(
          s, [&](const trellis::text& v, const json&) { require(to_std(v.view()) == s); });
    case 1:
      return field<bool>(s, [](bool v, const json& j) { require(j.get<bool>() == v); });
    case 2:
      return whole_number<std::size_t>(s);
    case 3:
      return whole_number<std::uint16_t>(s);
    case 4:
      return field<double>(s, [](double v, const json& j) { require(j.get<double>() == v); });
    case 5:
      return field<double[3]>(s, [](const double (&v)[3], const json& j) {
        require(j.size() == 3);
        for (std::size_t i = 0; i < 3; ++i) require(j[i].get<double>() == v[i]);
      });
    case 6:  // a list: its items joined by commas give the text back
      return field<trellis::text_list>(s, [&](const trellis::text_list& v, const json& j) {
        std::string joined;
        std::size_t i = 0;
        for (const auto& item : v) {
          joined += (i == 0 ? "" : ",") + std::string{to_std(item.view())};
          require(trellis::fuzz::reads_back(j[i++], to_std(item.view())));
        }
        require(joined == s && j.size() == v.size());
      });
    default:  // tags: key:value pairs, the same in plan.json
      return field<trellis::tag_list>(s, [&](const trellis::tag_list& v, const json& j) {
        std::string joined;
        for (const auto& t : v) {
          const std::string key{to_std(t.key.view())}, value{to_std(t.value.view())};
          joined += (joined.empty() ? "" : ",") + key + ":" + value;
          if (trellis::fuzz::is_utf8(key)) require(trellis::fuzz::reads_back(j.at(key), value));
        }
        require(joined == s && j.is_object());
      });
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view assignment{reinterpret_cast<const char*>(data) + 1, size - 1};
  const auto eq = assignment.find('=');
  parse_values(data[0], eq == std::string_view::npos ? assignment : assignment.substr(eq + 1));

  auto pipeline = trellis::fuzz::sample_pipeline();
  try {
    trellis::cli::apply_setting(pipeline, assignment);
  } catch (const trellis::cli::usage_error&) {
    return 0;
  }
  (void)json::parse(trellis::plan::plan_json(pipeline, trellis::plan::run_plan{}));
  return 0;
}
