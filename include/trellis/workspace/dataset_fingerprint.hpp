// dataset_fingerprint: one SHA-256 that changes when any file in a dataset folder changes: the hash
// of a sorted list of every data file's path (relative to the root), size and content hash.
// Registered versions record it, so a model's lineage names the exact data it learned from.
#pragma once
#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "trellis/workspace/sha256.hpp"

namespace trellis::workspace {

/// Every regular, non-hidden file under `root`, hashed; throws naming an unreadable file.
inline std::string dataset_fingerprint(const std::filesystem::path& root) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    const auto name = it->path().filename().string();
    if (name.starts_with('.')) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file()) files.push_back(fs::relative(it->path(), root));
  }
  if (ec)
    throw std::runtime_error(
        fmt::format("cannot list the dataset folder '{}': {}", root.string(), ec.message()));
  std::sort(files.begin(), files.end());
  sha256 manifest;
  for (const auto& f : files)
    manifest.update(fmt::format("{}\t{}\t{}\n", f.generic_string(), fs::file_size(root / f),
                                sha256_of_file(root / f)));
  return manifest.hex();
}

}  // namespace trellis::workspace
