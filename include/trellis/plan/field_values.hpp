// How stage field values read as text: JSON for the plan, and parsing for `--set`. One place
// knows every field type a stage may declare (numbers, flags, text, lists, tags, versions).
#pragma once
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "trellis/plan/json.hpp"
#include "trellis/stages/stage.hpp"
#include "trellis/text.hpp"

namespace trellis::plan {

inline std::string_view to_std(text_view v) { return {v.data(), v.size()}; }

inline void write_value(json_writer& out, text_view v) { out.value(to_std(v)); }
inline void write_value(json_writer& out, const text& v) { out.value(to_std(v.view())); }
inline void write_value(json_writer& out, bool v) { out.value(v); }
inline void write_value(json_writer& out, double v) { out.value(v); }
template <class I>
  requires(std::is_integral_v<I> && !std::is_same_v<I, bool>)
void write_value(json_writer& out, I v) {
  out.value(v);
}
inline void write_value(json_writer& out, version v) {
  if (v.value == 0) {
    out.null();
    return;
  }
  out.value(std::to_string(v.value / 100) + "." + std::to_string(v.value % 100));
}
inline void write_value(json_writer& out, dims d) {
  out.begin_array().value(d.channels).value(d.height).value(d.width).end_array();
}
inline void write_value(json_writer& out, const double (&v)[3]) {
  out.begin_array().value(v[0]).value(v[1]).value(v[2]).end_array();
}
inline void write_value(json_writer& out, const text_list& list) {
  out.begin_array();
  for (const auto& item : list) write_value(out, item);
  out.end_array();
}
inline void write_value(json_writer& out, const tag_list& tags) {
  out.begin_object();
  for (const auto& t : tags) out.key(to_std(t.key.view())).value(to_std(t.value.view()));
  out.end_object();
}

/// Thrown when a `--set` value does not parse as the field's type.
struct bad_value : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline void parse_value(std::string_view s, text& v) { v = text{s}; }
inline void parse_value(std::string_view s, bool& v) {
  if (s == "true" || s == "1" || s == "on") v = true;
  else if (s == "false" || s == "0" || s == "off") v = false;
  else throw bad_value("expected true or false");
}
template <class I>
  requires(std::is_integral_v<I> && !std::is_same_v<I, bool>)
void parse_value(std::string_view s, I& v) {
  I parsed{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), parsed);
  if (ec != std::errc{} || end != s.data() + s.size())
    throw bad_value(ec == std::errc::result_out_of_range ? "number out of range"
                                                         : "expected a whole number");
  v = parsed;
}
inline void parse_value(std::string_view s, double& v) {
  std::size_t used = 0;
  double parsed = 0;
  try {
    parsed = std::stod(std::string{s}, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != s.size()) throw bad_value("expected a number");
  // "nan" and "inf" parse, but no field means them and plan.json (JSON) cannot hold them.
  if (!std::isfinite(parsed)) throw bad_value("expected a finite number");
  v = parsed;
}
/// The comma-separated items of `s`, none for "". An empty item (",a", "a,,b", "a,") is an
/// error rather than an item to drop or keep.
inline std::vector<std::string_view> comma_separated(std::string_view s) {
  std::vector<std::string_view> items;
  if (s.empty()) return items;
  for (;;) {
    const auto comma = s.find(',');
    items.push_back(s.substr(0, comma));
    if (items.back().empty()) throw bad_value("empty item in the comma-separated list");
    if (comma == std::string_view::npos) return items;
    s = s.substr(comma + 1);
  }
}
/// Comma-separated items: pip=torchvision,onnx
inline void parse_value(std::string_view s, text_list& v) {
  std::vector<text> items;
  for (auto item : comma_separated(s)) items.push_back(text{item});
  v = text_list{items.data(), items.size()};
}
/// Comma-separated key:value pairs: tags=team:vision,stage:dev
inline void parse_value(std::string_view s, tag_list& v) {
  std::vector<tag> items;
  for (auto item : comma_separated(s)) {
    auto colon = item.find(':');
    if (colon == std::string_view::npos || colon == 0) throw bad_value("expected key:value pairs");
    const auto key = item.substr(0, colon);
    for (const auto& t : items)  // the plan writes tags as a JSON object, one value per key
      if (to_std(t.key.view()) == key)
        throw bad_value("tag '" + std::string{key} + "' given twice");
    items.push_back(tag{text{key}, text{item.substr(colon + 1)}});
  }
  v = tag_list{items.data(), items.size()};
}
inline void parse_value(std::string_view s, double (&v)[3]) {
  double parsed[3];
  for (int i = 0; i < 3; ++i) {
    auto comma = s.find(',');
    if ((i < 2) == (comma == std::string_view::npos))
      throw bad_value("expected three numbers a,b,c");
    parse_value(s.substr(0, comma), parsed[i]);
    s = i < 2 ? s.substr(comma + 1) : s;
  }
  for (int i = 0; i < 3; ++i) v[i] = parsed[i];
}

}  // namespace trellis::plan
