// sample_source: what a loader reads, a numbered list of (image, label) samples that several
// threads may read at once; dataset_splits: the train, val and test sources of one dataset.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

namespace trellis::core {

class sample_source {
 public:
  virtual ~sample_source() = default;
  [[nodiscard]] virtual std::size_t size() const = 0;
  [[nodiscard]] virtual std::int64_t label(std::size_t i) const = 0;
  /// Sample i as uint8 [C, H, W]; throws data_error naming the file when it cannot be decoded.
  [[nodiscard]] virtual torch::Tensor image(std::size_t i) const = 0;
  /// The file that holds sample i, for error messages.
  [[nodiscard]] virtual std::filesystem::path file(std::size_t i) const = 0;
  /// The file or folder the whole source comes from, for error messages.
  [[nodiscard]] virtual std::filesystem::path origin() const = 0;
};

struct dataset_splits {
  std::shared_ptr<const sample_source> train;
  std::shared_ptr<const sample_source> val;  ///< chooses the best epoch
  std::vector<std::string> class_names;      ///< label i is class_names[i]
  std::shared_ptr<const sample_source> test;  ///< evaluated once, on the chosen model; may be null
};

}  // namespace trellis::core
