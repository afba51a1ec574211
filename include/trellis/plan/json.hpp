// A small JSON writer with one fixed layout (two-space indent, keys in call order), so the
// same plan always gives the same bytes. Writing only: trellis never parses its plans back.
// Its output is always JSON: bytes that are not UTF-8 are written as U+FFFD, and numbers that
// JSON cannot hold (NaN, infinities) as null.
#pragma once
#include <charconv>
#include <cmath>
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
    if (!std::isfinite(d)) return null();
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
  // The length of the UTF-8 sequence that starts at s[i] (RFC 3629), or 0 if it is not one.
  static std::size_t utf8_sequence(std::string_view s, std::size_t i) {
    auto byte = [&](std::size_t k) {
      return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u;
    };
    const unsigned lead = byte(0);
    std::size_t n = 0;
    unsigned low = 0x80, high = 0xBF;  // the range of the second byte
    if (lead < 0x80) return 1;
    if (lead >= 0xC2 && lead <= 0xDF) {
      n = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      n = 3;
      if (lead == 0xE0) low = 0xA0;   // no overlong forms
      if (lead == 0xED) high = 0x9F;  // no surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      n = 4;
      if (lead == 0xF0) low = 0x90;   // no overlong forms
      if (lead == 0xF4) high = 0x8F;  // nothing above U+10FFFF
    } else {
      return 0;
    }
    for (std::size_t k = 1; k < n; ++k) {
      const unsigned b = byte(k);
      if (b < (k == 1 ? low : 0x80) || b > (k == 1 ? high : 0xBF)) return 0;
    }
    return n;
  }
  void quote(std::string_view s) {
    out_ += '"';
    for (std::size_t i = 0; i < s.size(); ++i) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c >= 0x80) {
        const std::size_t n = utf8_sequence(s, i);
        if (n == 0) {
          out_ += "\\ufffd";  // not UTF-8: the replacement character
        } else {
          out_.append(s.substr(i, n));
          i += n - 1;
        }
        continue;
      }
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
