// A small JSON writer with one fixed layout (two-space indent, keys in call order), so the
// same plan always gives the same bytes. Writing only: trellis never parses its plans back.
#pragma once
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <type_traits>

namespace trellis::plan {

class json_writer {
 public:
  json_writer& begin_object() { return open('{'); }
  json_writer& end_object() { return close('}'); }
  json_writer& begin_array() { return open('['); }
  json_writer& end_array() { return close(']'); }

  json_writer& key(std::string_view name) {
    separate();
    quote(name);
    out_ += ": ";
    after_key_ = true;
    return *this;
  }
  json_writer& value(std::string_view s) {
    separate();
    quote(s);
    return *this;
  }
  json_writer& value(const char* s) { return value(std::string_view{s}); }
  json_writer& value(bool b) { return raw(b ? "true" : "false"); }
  /// A number that is not finite has no JSON form: it is written as null.
  json_writer& value(double d) {
    if (!__builtin_isfinite(d)) return null();
    char buffer[32];  // shortest form that reads back to the same double
    const auto end = std::to_chars(buffer, buffer + sizeof buffer, d).ptr;
    return raw(std::string_view{buffer, static_cast<std::size_t>(end - buffer)});
  }
  template <class I>
    requires(std::is_integral_v<I> && !std::is_same_v<I, bool>)
  json_writer& value(I i) {
    return raw(std::to_string(i));
  }
  json_writer& null() { return raw("null"); }

  [[nodiscard]] const std::string& str() const { return out_; }

 private:
  json_writer& open(char c) {
    separate();
    out_ += c;
    ++depth_;
    first_ = true;
    return *this;
  }
  json_writer& close(char c) {
    --depth_;
    if (!first_) newline();
    out_ += c;
    first_ = false;
    if (depth_ == 0) out_ += '\n';
    return *this;
  }
  json_writer& raw(std::string_view text) {
    separate();
    out_ += text;
    return *this;
  }
  void separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (depth_ == 0) return;
    if (!first_) out_ += ',';
    newline();
    first_ = false;
  }
  void newline() {
    out_ += '\n';
    out_.append(2 * static_cast<std::size_t>(depth_), ' ');
  }
  void quote(std::string_view s) {
    out_ += '"';
    for (unsigned char c : s) {
      switch (c) {
        case '"': out_ += "\\\""; break;
        case '\\': out_ += "\\\\"; break;
        case '\n': out_ += "\\n"; break;
        case '\t': out_ += "\\t"; break;
        case '\r': out_ += "\\r"; break;
        default:
          if (c < 0x20) {
            char buffer[8];
            std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
            out_ += buffer;
          } else {
            out_ += static_cast<char>(c);
          }
      }
    }
    out_ += '"';
  }

  std::string out_;
  int depth_ = 0;
  bool first_ = true;
  bool after_key_ = false;
};

}  // namespace trellis::plan
