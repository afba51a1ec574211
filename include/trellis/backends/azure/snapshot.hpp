// The code snapshot: the files of the program's source folder that the job builds from. It
// honours .amlignore (or, where a folder has none, .gitignore) at every level, as Azure ML's own
// upload does, and never takes .git, build folders (any with a CMakeCache.txt), trellis
// workspaces, outputs/, logs/, checkpoints/, credential files, or a file that contains one of
// the secrets in use. Its version is a hash of every path and content, so one upload serves
// every run of the same sources.
#pragma once
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "trellis/backends/azure/ignore_rules.hpp"

namespace trellis::backends::azure {

struct snapshot_file {
  std::filesystem::path path;  ///< on this machine
  std::string relative;        ///< in the snapshot, with / separators
  std::uintmax_t size = 0;
};

struct snapshot {
  std::filesystem::path root;
  std::vector<snapshot_file> files;   ///< sorted by relative path
  std::vector<std::string> withheld;  ///< relative paths left out because they contain a secret
  std::uintmax_t bytes = 0;
  std::string hash;  ///< 16 hex digits over paths and contents
};

struct snapshot_options {
  std::vector<std::filesystem::path>
      exclude;                       ///< folders never uploaded (the trellis workspace ...)
  std::vector<std::string> secrets;  ///< no uploaded file may contain one of these
  std::uintmax_t max_file_bytes = 256ull << 20;  ///< one Put Blob per file
};

namespace detail {

/// Names never uploaded, at any depth: version control and credentials.
inline bool is_private_name(const std::string& name) {
  static const ignore_rules rules(
      ".git\n.azureml\n.azure\n.ssh\n.aws\n.gnupg\n.env\n.env.*\n.netrc\n.git-credentials\n."
      "pypirc\n"
      "*.pem\n*.key\n*.pfx\n*.p12\nid_rsa*\nid_ed25519*\nid_ecdsa*\nid_dsa*\n");
  return rules.match(name, false).value_or(false);
}

/// Folders of a run at the snapshot's top: what a job or a local run writes, not sources.
inline bool is_run_output(const std::string& relative) {
  return relative == "outputs" || relative == "logs" || relative == "checkpoints" ||
         relative == "mlruns" || relative == "user_logs" || relative == "trellis-workspace";
}

struct fnv1a {
  std::uint64_t h = 14695981039346656037ull;
  void add(const char* data, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
      h = (h ^ static_cast<unsigned char>(data[i])) * 1099511628211ull;
  }
  void add(const std::string& s) { add(s.data(), s.size() + 1); }  // the NUL separates fields
};

}  // namespace detail

/// The ignore file that rules a folder: .amlignore wins over .gitignore.
inline ignore_rules folder_rules(const std::filesystem::path& dir) {
  std::error_code ec;
  for (const char* name : {".amlignore", ".gitignore"})
    if (std::filesystem::is_regular_file(dir / name, ec))
      return ignore_rules::from_file((dir / name).string());
  return {};
}

inline snapshot collect_snapshot(const std::filesystem::path& root_in,
                                 const snapshot_options& options = {}) {
  namespace fs = std::filesystem;
  snapshot s;
  s.root = fs::weakly_canonical(root_in);
  std::vector<fs::path> excluded;
  for (const auto& e : options.exclude) excluded.push_back(fs::weakly_canonical(e));

  // Each folder's rules apply to paths relative to that folder; the deepest one that decides wins.
  struct level {
    std::string prefix;  // the folder, relative to the root, with a trailing /
    ignore_rules rules;
  };
  std::vector<level> levels;
  auto ignored = [&](const std::string& relative, bool folder) {
    for (auto it = levels.rbegin(); it != levels.rend(); ++it)
      if (relative.starts_with(it->prefix))
        if (const auto d = it->rules.match(relative.substr(it->prefix.size()), folder)) return *d;
    return false;
  };

  auto walk = [&](auto& self, const fs::path& dir, const std::string& prefix) -> void {
    levels.push_back({prefix, folder_rules(dir)});
    std::vector<fs::directory_entry> entries;
    for (const auto& e : fs::directory_iterator(dir)) entries.push_back(e);
    std::sort(entries.begin(), entries.end());
    for (const auto& e : entries) {
      const std::string name = e.path().filename().string();
      const std::string relative = prefix + name;
      std::error_code ec;
      const bool folder = e.is_directory(ec) && !e.is_symlink(ec);
      if (detail::is_private_name(name) || (prefix.empty() && detail::is_run_output(name)))
        continue;
      if (ignored(relative, folder)) continue;
      if (folder) {
        const fs::path canonical = fs::weakly_canonical(e.path());
        if (std::find(excluded.begin(), excluded.end(), canonical) != excluded.end()) continue;
        if (fs::exists(e.path() / "CMakeCache.txt", ec) ||
            fs::exists(e.path() / "workspace.db", ec))
          continue;
        self(self, e.path(), relative + "/");
      } else if (e.is_regular_file(ec)) {
        s.files.push_back({e.path(), relative, e.file_size(ec)});
      }
    }
    levels.pop_back();
  };
  walk(walk, s.root, "");

  detail::fnv1a hash;
  std::vector<snapshot_file> kept;
  for (auto& f : s.files) {
    if (f.size > options.max_file_bytes)
      throw std::runtime_error(
          fmt::format("'{}' ({} MiB) is too large for the code snapshot (at most {} MiB a file); "
                      "data belongs in a data "
                      "asset: list it in .amlignore",
                      f.relative, f.size >> 20, options.max_file_bytes >> 20));
    std::ifstream in(f.path, std::ios::binary);
    const std::string content{std::istreambuf_iterator<char>{in}, {}};
    const bool secret =
        std::any_of(options.secrets.begin(), options.secrets.end(), [&](const std::string& x) {
          return x.size() >= 8 && content.find(x) != std::string::npos;
        });
    if (secret) {
      s.withheld.push_back(f.relative);
      continue;
    }
    hash.add(f.relative);
    hash.add(content);
    s.bytes += f.size;
    kept.push_back(std::move(f));
  }
  s.files = std::move(kept);
  s.hash = fmt::format("{:016x}", hash.h);
  return s;
}

}  // namespace trellis::backends::azure
