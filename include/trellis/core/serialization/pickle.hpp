// The pickle (protocol 2) that torch.save writes for a dict of tensors: a writer for a named
// list of tensors, and a restricted reader that, like torch.load(weights_only=True), knows
// only dicts, tuples, lists, scalars, strings and tensors. Storages live outside the pickle.
// Why not LibTorch's own pickler (measured with LibTorch 1.13 and Python's torch 1.13):
// - torch::pickle_load cannot read Python's torch.save(state_dict), a zip with storages: an
//   OrderedDict fails with "isGenericDict() INTERNAL ASSERT FAILED ... Expected GenericDict but
//   got None", a plain dict with "Unknown opcode for unpickling at 0x73" (SETITEM);
// - torch::pickle_save tags dicts with torch.jit._pickle.restore_type_tag, which Python's
//   torch.load(weights_only=True) refuses: "Unsupported class torch.jit._pickle.restore_type_tag".
#pragma once
#include <torch/torch.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace trellis::core::pickle {

/// The opcodes this file writes or reads, named as in Python's pickle.py (lower case).
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

static_assert(std::endian::native == std::endian::little,
              "trellis writes tensor storages in native byte order, which torch.save calls little");

/// The storage class name torch.save uses for a dtype ("FloatStorage"), or "" if none.
inline std::string_view storage_name(torch::Dtype dtype) {
  switch (dtype) {
    case torch::kFloat:
      return "FloatStorage";
    case torch::kDouble:
      return "DoubleStorage";
    case torch::kHalf:
      return "HalfStorage";
    case torch::kBFloat16:
      return "BFloat16Storage";
    case torch::kLong:
      return "LongStorage";
    case torch::kInt:
      return "IntStorage";
    case torch::kShort:
      return "ShortStorage";
    case torch::kChar:
      return "CharStorage";
    case torch::kByte:
      return "ByteStorage";
    case torch::kBool:
      return "BoolStorage";
    case torch::kComplexFloat:
      return "ComplexFloatStorage";
    case torch::kComplexDouble:
      return "ComplexDoubleStorage";
    default:
      return "";
  }
}

inline std::optional<torch::Dtype> storage_dtype(std::string_view name) {
  for (auto dtype : {torch::kFloat, torch::kDouble, torch::kHalf, torch::kBFloat16, torch::kLong,
                     torch::kInt, torch::kShort, torch::kChar, torch::kByte, torch::kBool,
                     torch::kComplexFloat, torch::kComplexDouble})
    if (storage_name(dtype) == name) return dtype;
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Writing

/// Pickles `entries` as collections.OrderedDict(name -> tensor) exactly the way torch.save does
/// for a state dict. Storage i is `storages[i]` (contiguous, CPU); the caller writes their bytes
/// to the records "data/<i>".
class tensor_dict_writer {
 public:
  explicit tensor_dict_writer(const std::vector<std::pair<std::string, torch::Tensor>>& entries) {
    emit(op::proto);
    out_.push_back('\x02');  // protocol 2
    ordered_dict();
    emit(op::mark);
    for (const auto& [name, tensor] : entries) {
      unicode(name);
      push_tensor(tensor);
    }
    emit(op::setitems);
    emit(op::stop);
  }
  [[nodiscard]] const std::string& bytes() const { return out_; }
  [[nodiscard]] const std::vector<torch::Tensor>& storages() const { return storages_; }

 private:
  void emit(char code) { out_.push_back(code); }
  void global(std::string_view module, std::string_view name) {
    emit(op::global);
    (out_ += module) += '\n';
    (out_ += name) += '\n';
  }
  void ordered_dict() {
    global("collections", "OrderedDict");
    emit(op::empty_tuple);
    emit(op::reduce);
  }
  template <class T>
  void raw(T value) {
    char buffer[sizeof(T)];
    std::memcpy(buffer, &value, sizeof(T));
    out_.append(buffer, sizeof(T));
  }
  void unicode(std::string_view text) {
    emit(op::binunicode);
    raw(static_cast<std::uint32_t>(text.size()));
    out_ += text;
  }
  void integer(std::int64_t value) {
    if (value >= std::numeric_limits<std::int32_t>::min() &&
        value <= std::numeric_limits<std::int32_t>::max()) {
      emit(op::binint);
      raw(static_cast<std::int32_t>(value));
    } else {  // 8 little-endian two's-complement bytes
      emit(op::long1);
      out_.push_back('\x08');
      raw(value);
    }
  }
  void int_tuple(c10::IntArrayRef values) {
    emit(op::mark);
    for (auto v : values) integer(v);
    emit(op::tuple);
  }
  // torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)
  void push_tensor(const torch::Tensor& tensor) {
    auto name = storage_name(tensor.scalar_type());
    if (name.empty())
      throw std::runtime_error("cannot save a tensor of dtype " +
                               std::string(c10::toString(tensor.scalar_type())));
    auto storage = tensor.detach().to(torch::kCPU).contiguous();
    auto key = std::to_string(storages_.size());
    storages_.push_back(storage);
    global("torch._utils", "_rebuild_tensor_v2");
    emit(op::mark);
    emit(op::mark);  // persistent id: ('storage', torch.<T>Storage, key, 'cpu', numel)
    unicode("storage");
    global("torch", name);
    unicode(key);
    unicode("cpu");
    integer(storage.numel());
    emit(op::tuple);
    emit(op::binpersid);
    integer(0);
    int_tuple(storage.sizes());
    int_tuple(storage.strides());
    emit(op::newfalse);  // requires_grad: a state dict holds no autograd state
    ordered_dict();
    emit(op::tuple);
    emit(op::reduce);
  }

  std::string out_;
  std::vector<torch::Tensor> storages_;
};

// ---------------------------------------------------------------------------------------------
// Reading

struct value;
using value_ptr = std::shared_ptr<value>;
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
               torch::Tensor>
      v;
};

/// Returns the whole storage `key` (1-D, `numel` elements of `dtype`).
using storage_loader =
    std::function<torch::Tensor(const std::string& key, torch::Dtype dtype, std::int64_t numel)>;

/// Runs the pickle in `bytes` on a machine that can build only the values above; anything
/// else (an arbitrary class, a function call) is an error rather than code execution.
class reader {
 public:
  reader(std::string_view bytes, storage_loader load) : in_{bytes}, load_{std::move(load)} {}

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
                 (g.module == "torch" && storage_dtype(g.name));
    if (!known)
      fail("unsupported global '" + g.module + "." + g.name + "' (only tensors are read)");
    return g;
  }

  template <class T>
  void push(T v) {
    stack_.push_back(std::make_shared<value>(value{std::move(v)}));
  }
  void push_memo(std::uint32_t id) {
    auto it = memo_.find(id);
    if (it == memo_.end()) fail("pickle refers to an unknown memo entry");
    stack_.push_back(it->second);
  }
  value_ptr top() {
    if (stack_.empty()) fail("pickle stack underflow");
    return stack_.back();
  }
  value_ptr pop() {
    auto v = top();
    stack_.pop_back();
    return v;
  }
  tuple pop_n(std::size_t n) {
    if (stack_.size() < n + (marks_.empty() ? 0 : marks_.back())) fail("pickle stack underflow");
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
  static const T& as(const value_ptr& v, const char* what) {
    if (auto* p = std::get_if<T>(&v->v)) return *p;
    fail(std::string("malformed pickle: expected ") + what);
  }
  static std::vector<std::int64_t> ints(const value_ptr& v) {
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
    auto dtype = storage_dtype(type.name);
    if (type.module != "torch" || !dtype) fail("unsupported storage type " + type.name);
    const auto& key = as<std::string>(pid[2], "a storage key");
    auto numel = as<std::int64_t>(pid[4], "a storage size");
    auto it = storages_.find(key);
    if (it == storages_.end()) it = storages_.emplace(key, load_(key, *dtype, numel)).first;
    push(it->second);
  }
  void reduce() {
    auto args = as<tuple>(pop(), "call arguments");
    auto callee = as<global>(pop(), "a callable");
    if (callee.name == "OrderedDict") return push(dict{});
    if (callee.name.starts_with("_rebuild_parameter")) {  // a Parameter: keep its data
      if (args.empty()) fail("malformed pickle: a parameter without data");
      return push(as<torch::Tensor>(args[0], "a tensor"));
    }
    if (callee.module == "torch._utils" && args.size() >= 4)
      return push(rebuild_tensor(as<torch::Tensor>(args[0], "a storage"),
                                 as<std::int64_t>(args[1], "an offset"), ints(args[2]),
                                 ints(args[3])));
    fail("unsupported call " + callee.module + "." + callee.name);
  }
  // A view into the storage, bounds-checked so a malformed file cannot read past it.
  static torch::Tensor rebuild_tensor(const torch::Tensor& storage, std::int64_t offset,
                                      const std::vector<std::int64_t>& size,
                                      const std::vector<std::int64_t>& stride) {
    if (size.size() != stride.size() || offset < 0) fail("malformed pickle: bad tensor geometry");
    std::int64_t last = offset;
    for (std::size_t i = 0; i < size.size(); ++i) {
      if (size[i] < 0 || stride[i] < 0) fail("malformed pickle: bad tensor geometry");
      if (size[i] == 0) return torch::empty(size, storage.options());
      last += (size[i] - 1) * stride[i];
    }
    if (last >= storage.numel()) fail("malformed pickle: tensor exceeds its storage");
    return storage.as_strided(size, stride, offset);
  }

  std::string_view in_;
  std::size_t pos_ = 0;
  storage_loader load_;
  std::vector<value_ptr> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint32_t, value_ptr> memo_;
  std::unordered_map<std::string, torch::Tensor> storages_;
};

}  // namespace trellis::core::pickle
