// ignore_rules: the patterns of one .amlignore or .gitignore file, with git's meaning: `#`
// comments, `!` to re-include, a trailing `/` for folders only, a `/` at the start or in the
// middle to anchor the pattern to the file's folder (else it matches a name at any depth), `*`,
// `?`, `[a-z]` classes and `**` (leading `**/`, trailing `/**`, middle `/**/`). The last pattern
// that matches decides. Used to choose what the code snapshot uploads.
#pragma once
#include <fstream>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

namespace trellis::backends::azure {

class ignore_rules {
 public:
  ignore_rules() = default;
  explicit ignore_rules(std::string_view text) {
    std::size_t start = 0;
    while (start <= text.size()) {
      const auto end = text.find('\n', start);
      add(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
      if (end == std::string_view::npos) break;
      start = end + 1;
    }
  }
  static ignore_rules from_file(const std::string& path) {
    std::ifstream in(path);
    return ignore_rules(std::string{std::istreambuf_iterator<char>{in}, {}});
  }

  /// true: ignored, false: re-included by a `!` pattern, nullopt: no pattern matches. `path` is
  /// relative to the folder of the ignore file, with `/` separators.
  [[nodiscard]] std::optional<bool> match(const std::string& path, bool is_folder) const {
    std::optional<bool> decision;
    for (const auto& r : rules_)
      if ((!r.folders_only || is_folder) && std::regex_match(path, r.pattern))
        decision = !r.negated;
    return decision;
  }
  [[nodiscard]] bool empty() const { return rules_.empty(); }

 private:
  struct rule {
    std::regex pattern;
    bool negated = false, folders_only = false;
  };

  void add(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    while (!line.empty() && line.back() == ' ' &&
           !(line.size() >= 2 && line[line.size() - 2] == '\\'))
      line.remove_suffix(1);
    if (line.empty() || line.front() == '#') return;
    rule r;
    if (line.front() == '!') {
      r.negated = true;
      line.remove_prefix(1);
    } else if (line.starts_with("\\!") || line.starts_with("\\#")) {
      line.remove_prefix(1);
    }
    if (!line.empty() && line.back() == '/') {
      r.folders_only = true;
      line.remove_suffix(1);
    }
    if (line.empty()) return;
    // A slash at the start or in the middle anchors the pattern to the ignore file's folder.
    const bool anchored = line.find('/') != std::string_view::npos;
    if (line.front() == '/') line.remove_prefix(1);
    std::string re = anchored ? "" : "(?:.*/)?";
    re += translate(line);
    r.pattern = std::regex(re);
    rules_.push_back(std::move(r));
  }

  static std::string translate(std::string_view p) {
    std::string re;
    for (std::size_t i = 0; i < p.size(); ++i) {
      const char c = p[i];
      if (c == '*' && i + 1 < p.size() && p[i + 1] == '*') {
        const bool at_start = i == 0 || p[i - 1] == '/';
        const bool at_end = i + 2 == p.size();
        if (at_start && at_end) {
          re += ".*";
        } else if (at_start && p[i + 2] == '/') {  // **/ : any number of folders, none included
          re += "(?:.*/)?";
          ++i;
        } else {
          re += "[^/]*";
        }
        ++i;
      } else if (c == '*') {
        re += "[^/]*";
      } else if (c == '?') {
        re += "[^/]";
      } else if (c == '[') {
        const auto close = p.find(']', i + 1);
        if (close == std::string_view::npos) {
          re += "\\[";
          continue;
        }
        std::string set{p.substr(i + 1, close - i - 1)};
        if (!set.empty() && set.front() == '!') set.front() = '^';
        for (std::size_t k = 0; k < set.size(); ++k)
          if (set[k] == '\\' || (set[k] == '[')) set.insert(k++, 1, '\\');
        re += "[" + set + "]";
        i = close;
      } else {
        const char literal = c == '\\' && i + 1 < p.size() ? p[++i] : c;  // \* is a plain *
        if (std::string_view{".^$|()+*?{}[]\\"}.find(literal) != std::string_view::npos) re += '\\';
        re += literal;
      }
    }
    return re;
  }

  std::vector<rule> rules_;
};

}  // namespace trellis::backends::azure
