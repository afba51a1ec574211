// The trellis command line's arguments: words (the command and its operands), --flags, and
// --options with a value (--name=V or --name V, repeatable). Each command says which it takes,
// so a misspelt option is an error rather than ignored.
#pragma once
#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace trellis::tool {

/// A command-line mistake: printed with the usage, exit status 2.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class arguments {
 public:
  arguments(int argc, const char* const* argv) {
    for (int i = 1; i < argc; ++i) {
      const std::string_view a = argv[i];
      if (a.size() < 3 || !a.starts_with("--")) {
        words_.emplace_back(a);
        continue;
      }
      const auto eq = a.find('=');
      std::string name{a.substr(2, eq == std::string_view::npos ? std::string_view::npos : eq - 2)};
      if (eq != std::string_view::npos) {
        values_[name].emplace_back(a.substr(eq + 1));
      } else if (takes_value(name) && i + 1 < argc) {
        values_[name].emplace_back(argv[++i]);
      } else {
        flags_.insert(name);
      }
    }
  }

  /// Options that take a value when written "--name value" (any command).
  static bool takes_value(std::string_view name) {
    static const std::set<std::string_view> names{"workspace", "experiment", "rank", "name",
                                                  "file", "model", "classes", "input-shape",
                                                  "description", "tag", "label", "page"};
    return names.contains(name);
  }

  [[nodiscard]] const std::vector<std::string>& words() const { return words_; }
  [[nodiscard]] bool flag(const std::string& name) const { return flags_.contains(name); }
  [[nodiscard]] std::optional<std::string> value(const std::string& name) const {
    const auto it = values_.find(name);
    if (it == values_.end()) return std::nullopt;
    if (it->second.size() > 1) throw usage_error(fmt::format("--{} is given more than once", name));
    return it->second.front();
  }
  [[nodiscard]] std::vector<std::string> values(const std::string& name) const {
    const auto it = values_.find(name);
    return it == values_.end() ? std::vector<std::string>{} : it->second;
  }
  [[nodiscard]] std::string required(const std::string& name) const {
    if (auto v = value(name)) return *v;
    throw usage_error(fmt::format("--{} is required", name));
  }

  /// Fails on any flag or option the command does not take (--workspace is everyone's).
  void allow(const std::set<std::string>& flags, const std::set<std::string>& options) const {
    for (const auto& f : flags_)
      if (f != "help" && !flags.contains(f))
        throw usage_error(fmt::format("unknown flag --{} for this command", f));
    for (const auto& [name, _] : values_)
      if (name != "workspace" && !options.contains(name))
        throw usage_error(fmt::format("unknown option --{} for this command", name));
  }

  /// The operand at `index` after the command words, or a usage error naming `what`.
  [[nodiscard]] const std::string& operand(std::size_t index, std::string_view what) const {
    if (index >= words_.size()) throw usage_error(fmt::format("missing {}", what));
    return words_[index];
  }

 private:
  std::vector<std::string> words_;
  std::set<std::string> flags_;
  std::map<std::string, std::vector<std::string>> values_;
};

/// A whole number from an option's text, or a usage error naming the option.
inline long long whole_number(const std::string& text, std::string_view option) {
  std::size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size())
    throw usage_error(fmt::format("--{}={}: expected a whole number", option, text));
  return v;
}

}  // namespace trellis::tool
