// Text types of the front end, kept free of <string> and <string_view> (measured in
// benchmarks/compile_time/README.md): `text_view` for compile-time names, and `text`,
// `text_list` and `tag_list` for run-time fields that `--set` can change. All are trivially
// copyable, so stages and pipelines are too and building one with `|` emits almost no code.
#pragma once
#include <concepts>
#include <cstddef>
#include <initializer_list>

namespace trellis {

/// A non-owning view of characters; usable in constant expressions.
class text_view {
 public:
  constexpr text_view() = default;
  constexpr text_view(const char* data, std::size_t size) : data_{data}, size_{size} {}
  // __builtin_strlen rather than a loop: compilers fold it for a literal, where counting the
  // characters one step at a time in a constant evaluation costs every pipeline.
  constexpr text_view(const char* c_str)  // NOLINT: implicit from literals
      : data_{c_str}, size_{__builtin_strlen(c_str)} {}
  [[nodiscard]] constexpr const char* data() const { return data_; }
  [[nodiscard]] constexpr std::size_t size() const { return size_; }
  [[nodiscard]] constexpr bool empty() const { return size_ == 0; }
  [[nodiscard]] constexpr const char* begin() const { return data_; }
  [[nodiscard]] constexpr const char* end() const { return data_ + size_; }
  [[nodiscard]] constexpr char operator[](std::size_t i) const { return data_[i]; }
  [[nodiscard]] constexpr text_view substr(std::size_t pos) const {
    return {data_ + pos, size_ - pos};
  }
  [[nodiscard]] constexpr bool starts_with(text_view prefix) const {
    return prefix.size_ <= size_ && text_view{data_, prefix.size_} == prefix;
  }
  friend constexpr bool operator==(text_view a, text_view b) {
    if (a.size_ != b.size_) return false;
    for (std::size_t i = 0; i < a.size_; ++i)
      if (a.data_[i] != b.data_[i]) return false;
    return true;
  }

 private:
  const char* data_ = "";
  std::size_t size_ = 0;
};

namespace detail {
/// Storage for characters and lists made at run time. It only grows and is never freed, so a
/// `text` or `list` is a trivially copyable handle, like a string literal: stages and pipelines
/// copy without allocating, and `|` compiles to plain copies. Blocks stay reachable from the
/// pool, so leak checkers see no leak.
class keep_pool {
 public:
  /// `size` bytes aligned for any scalar, alive until the program ends; thread-safe.
  static unsigned char* allocate(std::size_t size) {
    auto* block = new unsigned char[header + size];
    keep_pool& pool = instance();
    while (__atomic_test_and_set(&pool.busy_, __ATOMIC_ACQUIRE)) {
    }
    __builtin_memcpy(block, &pool.head_, sizeof pool.head_);  // the block links to the last one
    pool.head_ = block;
    __atomic_clear(&pool.busy_, __ATOMIC_RELEASE);
    return block + header;
  }
  /// A NUL-terminated copy of `size` characters.
  static const char* keep_chars(const char* chars, std::size_t size) {
    auto* kept = reinterpret_cast<char*>(allocate(size + 1));
    __builtin_memcpy(kept, chars, size);
    kept[size] = '\0';
    return kept;
  }

 private:
  static constexpr std::size_t header = 16;  // keeps the payload aligned like `new` does
  static keep_pool& instance() {
    static keep_pool pool;
    return pool;
  }
  unsigned char* head_ = nullptr;
  bool busy_ = false;
};
}  // namespace detail

/// An immutable string for run-time fields (`.root = "data/fowl"`, `--set` values). Made from
/// a string literal, or during constant evaluation, it points at its literal; made at run time
/// from anything else it copies the characters into storage kept until the program ends.
/// Copies share the characters.
class text {
 public:
  constexpr text() = default;
  /// From a string literal, always at compile time (consteval), so a stage whose fields are
  /// literals is a constant, and so is a pipeline of them: g++ copies it in one block instead
  /// of compiling code that builds it. (A local array is refused: the text would outlive it.)
  template <class Char, std::size_t N>
    requires __is_same(Char, const char)
  consteval text(Char (&literal)[N]) : text{text_view{literal}} {}  // NOLINT: implicit
  /// From a run-time C string, a char array that may change included: a copy.
  template <class Pointer>
    requires(__is_same(Pointer, const char*) || __is_same(Pointer, char*))
  constexpr text(Pointer c_str) : text{text_view{c_str}} {}  // NOLINT: implicit
  constexpr text(text_view v) : size_{v.size()} {              // NOLINT
    if (__builtin_is_constant_evaluated()) {
      // A compile-time text points at its literal, so that literal must end right here.
      if (v.data()[v.size()] != '\0') throw "a compile-time text must be a whole string literal";
      data_ = v.data();
      return;
    }
    data_ = detail::keep_pool::keep_chars(v.data(), size_);
  }
  /// From std::string or std::string_view (anything with data() and size()).
  template <class S>
    requires requires(const S& s) {
      { s.data() } -> std::convertible_to<const char*>;
      { s.size() } -> std::convertible_to<std::size_t>;
    }
  text(const S& s) : text{text_view{s.data(), s.size()}} {}  // NOLINT

  [[nodiscard]] constexpr text_view view() const { return {c_str(), size_}; }
  [[nodiscard]] constexpr const char* c_str() const { return data_ ? data_ : ""; }
  [[nodiscard]] constexpr std::size_t size() const { return size_; }
  [[nodiscard]] constexpr bool empty() const { return size_ == 0; }
  friend constexpr bool operator==(const text& a, const text& b) { return a.view() == b.view(); }

 private:
  const char* data_ = nullptr;
  std::size_t size_ = 0;
};

/// An immutable list of trivially copyable values (`.pip = {"torchvision", "onnx"}`), kept
/// like `text`'s characters; copies share the items.
template <class T>
class list {
  static_assert(__is_trivially_copyable(T), "list items are copied as bytes");

 public:
  constexpr list() = default;
  list(std::initializer_list<T> items) : list{items.begin(), items.size()} {}
  /// A copy of `count` items from `items`.
  list(const T* items, std::size_t count) : size_{count} {
    if (count == 0) return;
    auto* kept = detail::keep_pool::allocate(count * sizeof(T));
    __builtin_memcpy(kept, items, count * sizeof(T));
    items_ = reinterpret_cast<const T*>(kept);
  }

  [[nodiscard]] constexpr std::size_t size() const { return size_; }
  [[nodiscard]] constexpr bool empty() const { return size_ == 0; }
  [[nodiscard]] constexpr const T* begin() const { return items_; }
  [[nodiscard]] constexpr const T* end() const { return items_ + size_; }

 private:
  const T* items_ = nullptr;
  std::size_t size_ = 0;
};

struct tag {
  text key;
  text value;
};

using text_list = list<text>;
using tag_list = list<tag>;

}  // namespace trellis
