// The restricted pickle reader, without LibTorch: it runs the pickle torch.save writes for a
// dict of tensors and, like torch.load(weights_only=True), builds only dicts, tuples, lists,
// scalars, strings and tensors. A tensor is read as what to make of which storage (tensor_ref,
// bounds-checked); pickle.hpp makes torch tensors of them and writes such pickles.
#pragma once
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace trellis::core::pickle {

/// The opcodes pickle.hpp writes and this reader reads, named (lower case) as in pickle.py.
namespace op {
// framing
inline constexpr char proto = '\x80';  // protocol version: 1 byte
inline constexpr char frame = '\x95';  // protocol 4: frame length, 8 bytes
inline constexpr char stop = '.';
// building blocks
inline constexpr char mark = '(';
inline constexpr char empty_tuple = ')';
inline constexpr char empty_list = ']';
inline constexpr char empty_dict = '}';
inline constexpr char none = 'N';
inline constexpr char newtrue = '\x88';
inline constexpr char newfalse = '\x89';
// numbers: 1, 2 and 4 bytes little-endian, n bytes two's complement, 8 bytes big-endian IEEE
inline constexpr char binint1 = 'K';
inline constexpr char binint2 = 'M';
inline constexpr char binint = 'J';
inline constexpr char long1 = '\x8a';
inline constexpr char binfloat = 'G';
// strings: 4-, 1- and 8-byte lengths; a global is "module\nname\n"
inline constexpr char binunicode = 'X';
inline constexpr char short_binunicode = '\x8c';
inline constexpr char binunicode8 = '\x8d';
inline constexpr char global = 'c';
// tuples: from the last mark, or of the top 1, 2 or 3 items
inline constexpr char tuple = 't';
inline constexpr char tuple1 = '\x85';
inline constexpr char tuple2 = '\x86';
inline constexpr char tuple3 = '\x87';
// the memo: store the top under a 1- or 4-byte id or the next id, push an entry back
inline constexpr char binput = 'q';
inline constexpr char long_binput = 'r';
inline constexpr char memoize = '\x94';
inline constexpr char binget = 'h';
inline constexpr char long_binget = 'j';
// calls and containers
inline constexpr char reduce = 'R';     // callable(*args)
inline constexpr char binpersid = 'Q';  // a storage, by the persistent id on the stack
inline constexpr char build = 'b';      // set an object's state
inline constexpr char setitem = 's';
inline constexpr char setitems = 'u';
inline constexpr char append = 'a';
inline constexpr char appends = 'e';
}  // namespace op

/// The storage classes torch.save names (torch.FloatStorage, ...); pickle.hpp maps each to
/// its dtype, in this order.
inline constexpr std::string_view storage_names[] = {
    "FloatStorage", "DoubleStorage", "HalfStorage",         "BFloat16Storage",
    "LongStorage",  "IntStorage",    "ShortStorage",        "CharStorage",
    "ByteStorage",  "BoolStorage",   "ComplexFloatStorage", "ComplexDoubleStorage"};

inline bool is_storage_name(std::string_view name) {
  for (auto known : storage_names)
    if (known == name) return true;
  return false;
}

/// A storage by its persistent id: the record data/<key> holds `numel` items of class `type`.
struct storage_ref {
  std::string key, type;
  std::int64_t numel = 0;
};

/// A tensor as torch._utils._rebuild_tensor_v2 makes it: a strided view of a storage, checked
/// to lie within it (offset and last element below numel; sizes and strides not negative).
struct tensor_ref {
  storage_ref storage;
  std::int64_t offset = 0;
  std::vector<std::int64_t> sizes, strides;
};

struct value;
/// A value the reader made; it lives as long as the reader (see values_).
using value_ptr = value*;
struct none {};
struct global {
  std::string module, name;
};
using tuple = std::vector<value_ptr>;
struct list {
  std::vector<value_ptr> items;
};
struct dict {
  std::vector<std::pair<value_ptr, value_ptr>> items;
};
struct value {
  std::variant<none, bool, std::int64_t, double, std::string, tuple, list, dict, global,
               storage_ref, tensor_ref>
      v;
};

/// Runs the pickle in `bytes` on a machine that can build only the values above; anything
/// else (an arbitrary class, a function call) is an error rather than code execution.
class reader {
 public:
  explicit reader(std::string_view bytes) : in_{bytes} {}
  reader(const reader&) = delete;
  reader& operator=(const reader&) = delete;

  value_ptr run() {
    for (;;) {
      char code = next(1)[0];
      switch (code) {
        case op::proto:
          next(1);
          break;
        case op::frame:
          next(8);
          break;
        case op::stop:
          return pop();
        case op::mark:
          marks_.push_back(stack_.size());
          break;
        case op::empty_tuple:
          push(tuple{});
          break;
        case op::empty_list:
          push(list{});
          break;
        case op::empty_dict:
          push(dict{});
          break;
        case op::none:
          push(none{});
          break;
        case op::newtrue:
          push(true);
          break;
        case op::newfalse:
          push(false);
          break;
        case op::binint1:
          push(std::int64_t{read<std::uint8_t>()});
          break;
        case op::binint2:
          push(std::int64_t{read<std::uint16_t>()});
          break;
        case op::binint:
          push(std::int64_t{read<std::int32_t>()});
          break;
        case op::long1:
          push(long1());
          break;
        case op::binfloat:
          push(binfloat());
          break;
        case op::binunicode:
          push(std::string(next(read<std::uint32_t>())));
          break;
        case op::short_binunicode:
          push(std::string(next(read<std::uint8_t>())));
          break;
        case op::binunicode8:
          push(std::string(next(checked_size(read<std::uint64_t>()))));
          break;
        case op::global:
          push(read_global());
          break;
        case op::tuple:
          push(pop_mark());
          break;
        case op::tuple1:
          push(pop_n(1));
          break;
        case op::tuple2:
          push(pop_n(2));
          break;
        case op::tuple3:
          push(pop_n(3));
          break;
        case op::binput:
          memo_[read<std::uint8_t>()] = top();
          break;
        case op::long_binput:
          memo_[read<std::uint32_t>()] = top();
          break;
        case op::memoize:
          memo_[static_cast<std::uint32_t>(memo_.size())] = top();
          break;
        case op::binget:
          push_memo(read<std::uint8_t>());
          break;
        case op::long_binget:
          push_memo(read<std::uint32_t>());
          break;
        case op::reduce:
          reduce();
          break;
        case op::binpersid:
          persistent_load();
          break;
        case op::build:
          build();
          break;
        case op::setitem:
          setitems(pop_n(2));
          break;
        case op::setitems:
          setitems(pop_mark());
          break;
        case op::append:
          append(pop_n(1));
          break;
        case op::appends:
          append(pop_mark());
          break;
        default:
          fail("unsupported pickle opcode 0x" + hex(static_cast<unsigned char>(code)));
      }
    }
  }

 private:
  [[noreturn]] static void fail(const std::string& what) { throw std::runtime_error(what); }
  static std::string hex(unsigned value) {
    const char* digits = "0123456789abcdef";
    return {digits[value >> 4], digits[value & 15]};
  }

  std::string_view next(std::size_t n) {
    if (n > in_.size() - pos_) fail("truncated pickle");
    auto s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  template <class T>
  T read() {
    T value;
    std::memcpy(&value, next(sizeof(T)).data(), sizeof(T));
    return value;
  }
  static std::size_t checked_size(std::uint64_t n) {
    if (n > std::numeric_limits<std::size_t>::max()) fail("pickle string too long");
    return static_cast<std::size_t>(n);
  }
  std::int64_t long1() {
    auto n = read<std::uint8_t>();
    if (n > 8) fail("integer wider than 64 bits in the pickle");
    std::uint64_t bits = 0;
    auto bytes = next(n);
    for (std::size_t i = 0; i < n; ++i)
      bits |= std::uint64_t{static_cast<unsigned char>(bytes[i])} << (8 * i);
    if (n > 0 && n < 8 && (static_cast<unsigned char>(bytes[n - 1]) & 0x80))
      bits |= ~std::uint64_t{0} << (8 * n);  // sign-extend
    return static_cast<std::int64_t>(bits);
  }
  double binfloat() {  // big-endian IEEE 754
    auto bytes = next(8);
    std::uint64_t bits = 0;
    for (char c : bytes) bits = (bits << 8) | static_cast<unsigned char>(c);
    return std::bit_cast<double>(bits);
  }
  global read_global() {
    auto line = [&] {
      auto end = in_.find('\n', pos_);
      if (end == std::string_view::npos) fail("truncated pickle");
      auto s = std::string(in_.substr(pos_, end - pos_));
      pos_ = end + 1;
      return s;
    };
    global g{line(), line()};
    bool known = (g.module == "collections" && g.name == "OrderedDict") ||
                 (g.module == "torch._utils" &&
                  (g.name == "_rebuild_tensor_v2" || g.name == "_rebuild_tensor" ||
                   g.name == "_rebuild_parameter" || g.name == "_rebuild_parameter_with_state")) ||
                 (g.module == "torch" && is_storage_name(g.name));
    if (!known)
      fail("unsupported global '" + g.module + "." + g.name + "' (only tensors are read)");
    return g;
  }

  template <class T>
  void push(T v) {
    stack_.push_back(&values_.emplace_back(value{std::move(v)}));
  }
  void push_memo(std::uint32_t id) {
    auto it = memo_.find(id);
    if (it == memo_.end()) fail("pickle refers to an unknown memo entry");
    stack_.push_back(it->second);
  }
  // As in Python's unpickler, a mark starts a new frame: what lies below it cannot be popped
  // or read until the mark itself is popped.
  [[nodiscard]] std::size_t frame_start() const { return marks_.empty() ? 0 : marks_.back(); }
  value_ptr top() {
    if (stack_.size() <= frame_start()) fail("pickle stack underflow");
    return stack_.back();
  }
  value_ptr pop() {
    auto v = top();
    stack_.pop_back();
    return v;
  }
  tuple pop_n(std::size_t n) {
    if (stack_.size() < frame_start() + n) fail("pickle stack underflow");
    tuple items(stack_.end() - static_cast<std::ptrdiff_t>(n), stack_.end());
    stack_.resize(stack_.size() - n);
    return items;
  }
  tuple pop_mark() {
    if (marks_.empty()) fail("pickle has no mark to pop");
    auto n = stack_.size() - marks_.back();
    marks_.pop_back();
    tuple items(stack_.end() - static_cast<std::ptrdiff_t>(n), stack_.end());
    stack_.resize(stack_.size() - n);
    return items;
  }

  template <class T>
  static const T& as(value_ptr v, const char* what) {
    if (auto* p = std::get_if<T>(&v->v)) return *p;
    fail(std::string("malformed pickle: expected ") + what);
  }
  static std::vector<std::int64_t> ints(value_ptr v) {
    std::vector<std::int64_t> out;
    for (const auto& item : as<tuple>(v, "a tuple of ints"))
      out.push_back(as<std::int64_t>(item, "an int"));
    return out;
  }

  void setitems(const tuple& items) {
    auto* d = std::get_if<dict>(&top()->v);
    if (!d || items.size() % 2 != 0) fail("malformed pickle: SETITEMS on a non-dict");
    for (std::size_t i = 0; i < items.size(); i += 2) d->items.emplace_back(items[i], items[i + 1]);
  }
  void append(const tuple& items) {
    auto* l = std::get_if<list>(&top()->v);
    if (!l) fail("malformed pickle: APPEND on a non-list");
    l->items.insert(l->items.end(), items.begin(), items.end());
  }
  // BUILD sets an object's state; the only state torch.save writes here is a state dict's
  // `_metadata` (module versions), which loading does not need.
  void build() {
    pop();
    if (!std::holds_alternative<dict>(top()->v)) fail("malformed pickle: BUILD on a non-dict");
  }
  void persistent_load() {
    auto pid = as<tuple>(pop(), "a storage id");
    if (pid.size() != 5 || as<std::string>(pid[0], "'storage'") != "storage")
      fail("malformed pickle: unexpected persistent id");
    const auto& type = as<global>(pid[1], "a storage type");
    if (type.module != "torch" || !is_storage_name(type.name))
      fail("unsupported storage type " + type.name);
    auto numel = as<std::int64_t>(pid[4], "a storage size");
    if (numel < 0) fail("malformed pickle: a storage of " + std::to_string(numel) + " items");
    push(storage_ref{as<std::string>(pid[2], "a storage key"), type.name, numel});
  }
  void reduce() {
    auto args = as<tuple>(pop(), "call arguments");
    auto callee = as<global>(pop(), "a callable");
    if (callee.name == "OrderedDict") return push(dict{});
    if (callee.name.starts_with("_rebuild_parameter")) {  // a Parameter: keep its data
      if (args.empty()) fail("malformed pickle: a parameter without data");
      return push(as<tensor_ref>(args[0], "a tensor"));
    }
    if (callee.module == "torch._utils" && args.size() >= 4)
      return push(rebuild_tensor(as<storage_ref>(args[0], "a storage"),
                                 as<std::int64_t>(args[1], "an offset"), ints(args[2]),
                                 ints(args[3])));
    fail("unsupported call " + callee.module + "." + callee.name);
  }
  // A view into the storage, bounds-checked so a malformed file cannot read past it.
  static tensor_ref rebuild_tensor(const storage_ref& storage, std::int64_t offset,
                                   std::vector<std::int64_t> sizes,
                                   std::vector<std::int64_t> strides) {
    if (sizes.size() != strides.size() || offset < 0) fail("malformed pickle: bad tensor geometry");
    std::int64_t last = offset, extent = 0;
    bool empty = false;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      if (sizes[i] < 0 || strides[i] < 0) fail("malformed pickle: bad tensor geometry");
      if (sizes[i] == 0) empty = true;
      // Overflow is checked: a wrapped sum could otherwise pass the bound below.
      if (!empty && (__builtin_mul_overflow(sizes[i] - 1, strides[i], &extent) ||
                     __builtin_add_overflow(last, extent, &last)))
        fail("malformed pickle: tensor exceeds its storage");
    }
    if (!empty && last >= storage.numel) fail("malformed pickle: tensor exceeds its storage");
    return {storage, offset, std::move(sizes), std::move(strides)};
  }

  std::string_view in_;
  std::size_t pos_ = 0;
  // Every value made, owned here rather than by the containers that hold it: memo entries let
  // a pickle put a list into itself, which shared ownership would leak, and a deep nest would
  // be destroyed recursively.
  std::deque<value> values_;
  std::vector<value_ptr> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint32_t, value_ptr> memo_;
};

}  // namespace trellis::core::pickle
