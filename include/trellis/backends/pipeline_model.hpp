// make_pipeline_model: the LibTorch model a pipeline's train stage trains, freshly initialised,
// for the images of its dataset (dataset::input_dims()): what every rank builds, and what the
// plan traces to find out, before training, whether it exports to ONNX.
#pragma once
#include <cstdint>
#include <memory>

#include "trellis/backends/stage_config/model.hpp"
#include "trellis/pipeline.hpp"

namespace trellis::backends {

template <class Pipeline>
std::shared_ptr<core::classifier> make_pipeline_model() {
  using V = pipeline_view_t<Pipeline>;
  constexpr dims input = V::dataset::input_dims();
  core::image_size size{};  // models that need a size get 28x28 when the pipeline fixes none
  if constexpr (input.height > 0)
    size = {static_cast<std::int64_t>(input.height), static_cast<std::int64_t>(input.width)};
  return make_model<typename V::train::model>(static_cast<std::int64_t>(input.channels),
                                              static_cast<std::int64_t>(V::dataset::facts.classes),
                                              size);
}

}  // namespace trellis::backends
