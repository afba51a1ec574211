// Text types of the front end, kept free of <string> and <string_view> (each costs 0.3-0.5 s
// per translation unit with g++ 12): `text_view` for compile-time names, and owning `text`,
// `text_list` and `tag_list` for run-time fields that `--set` can change.
#pragma once
#include <concepts>
#include <cstddef>
#include <initializer_list>
#include <utility>

namespace trellis {

/// A non-owning view of characters; usable in constant expressions.
class text_view {
 public:
  constexpr text_view() = default;
  constexpr text_view(const char* data, std::size_t size) : data_{data}, size_{size} {}
  constexpr text_view(const char* c_str) : data_{c_str} {  // NOLINT: implicit from literals
    while (c_str[size_] != '\0') ++size_;
  }
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

/// An owning, immutable-size string for run-time fields (`.root = "data/fowl"`).
class text {
 public:
  text() = default;
  text(const char* c_str) : text{text_view{c_str}} {}  // NOLINT: implicit from literals
  text(text_view v) : size_{v.size()}, data_{new char[v.size() + 1]} {  // NOLINT
    for (std::size_t i = 0; i < size_; ++i) data_[i] = v[i];
    data_[size_] = '\0';
  }
  /// From std::string or std::string_view (anything with data() and size()).
  template <class S>
    requires requires(const S& s) {
      { s.data() } -> std::convertible_to<const char*>;
      { s.size() } -> std::convertible_to<std::size_t>;
    }
  text(const S& s) : text{text_view{s.data(), s.size()}} {}  // NOLINT
  text(const text& other) : text{other.view()} {}
  text(text&& other) noexcept
      : size_{std::exchange(other.size_, 0)}, data_{std::exchange(other.data_, nullptr)} {}
  text& operator=(text other) noexcept {
    std::swap(size_, other.size_);
    std::swap(data_, other.data_);
    return *this;
  }
  ~text() { delete[] data_; }

  [[nodiscard]] text_view view() const { return data_ ? text_view{data_, size_} : text_view{}; }
  [[nodiscard]] const char* c_str() const { return data_ ? data_ : ""; }
  [[nodiscard]] std::size_t size() const { return size_; }
  [[nodiscard]] bool empty() const { return size_ == 0; }
  friend bool operator==(const text& a, const text& b) { return a.view() == b.view(); }

 private:
  std::size_t size_ = 0;
  char* data_ = nullptr;
};

/// An owning list of values: `.pip = {"torchvision", "onnx"}`.
template <class T>
class list {
 public:
  list() = default;
  list(std::initializer_list<T> items) : size_{items.size()}, items_{new T[items.size()]} {
    std::size_t i = 0;
    for (const T& item : items) items_[i++] = item;
  }
  list(const list& other) : size_{other.size_}, items_{new T[other.size_]} {
    for (std::size_t i = 0; i < size_; ++i) items_[i] = other.items_[i];
  }
  list(list&& other) noexcept
      : size_{std::exchange(other.size_, 0)}, items_{std::exchange(other.items_, nullptr)} {}
  list& operator=(list other) noexcept {
    std::swap(size_, other.size_);
    std::swap(items_, other.items_);
    return *this;
  }
  ~list() { delete[] items_; }

  void push_back(T item) {
    list longer;
    longer.size_ = size_ + 1;
    longer.items_ = new T[size_ + 1];
    for (std::size_t i = 0; i < size_; ++i) longer.items_[i] = std::move(items_[i]);
    longer.items_[size_] = std::move(item);
    *this = std::move(longer);
  }
  [[nodiscard]] std::size_t size() const { return size_; }
  [[nodiscard]] bool empty() const { return size_ == 0; }
  [[nodiscard]] const T* begin() const { return items_; }
  [[nodiscard]] const T* end() const { return items_ + size_; }

 private:
  std::size_t size_ = 0;
  T* items_ = nullptr;
};

struct tag {
  text key;
  text value;
};

using text_list = list<text>;
using tag_list = list<tag>;

}  // namespace trellis
