// What the workspace records of a pipeline: the architecture its train stage builds (model type,
// classes, input shape), and whether a registered version can start that training.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>

#include <fmt/format.h>

#include "trellis/pipeline.hpp"
#include "trellis/plan/field_values.hpp"
#include "trellis/workspace/model_card.hpp"

namespace trellis::workspace {

/// The model the pipeline's train stage builds, for the images of dataset::input_dims().
template <class Pipeline>
architecture pipeline_architecture() {
  using V = pipeline_view_t<Pipeline>;
  constexpr dims input = V::dataset::input_dims();
  return {std::string{plan::to_std(V::train::model::name)},
          static_cast<std::int64_t>(V::dataset::facts.classes),
          static_cast<std::int64_t>(input.channels), static_cast<std::int64_t>(input.height),
          static_cast<std::int64_t>(input.width)};
}

/// Why `base`'s weights cannot start training `target`, or nullopt when they can: the same model
/// type and input channels and, unless the model fits any image size, the same height and width.
/// The class count may differ: transfer learning replaces the head.
inline std::optional<std::string> transfer_mismatch(const architecture& base,
                                                    const architecture& target,
                                                    bool any_input_size) {
  const bool size_ok =
      any_input_size || (base.height == target.height && base.width == target.width);
  if (base.model == target.model && base.channels == target.channels && size_ok)
    return std::nullopt;
  return fmt::format("it is a {}, and this pipeline trains a {}", base.describe(),
                     target.describe());
}

}  // namespace trellis::workspace
