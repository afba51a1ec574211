// Model types `train` accepts: torchvision's ResNets, a small CNN, and user modules. The front
// end only needs their names and whether they export to ONNX (rule E018); the LibTorch
// implementations live in trellis/core/models.
#pragma once
#include <concepts>

#include "trellis/text.hpp"
#include "trellis/params/param.hpp"

namespace trellis {

namespace kinds {
TRELLIS_KIND(model);
}  // namespace kinds

namespace models {

struct builtin {
  using kind = kinds::model;
  static constexpr bool onnx_exportable = true;
  /// Whether its weights fit any image size (global pooling), so a registered version can start
  /// the training of a pipeline with other image sizes.
  static constexpr bool any_input_size = true;
};

struct resnet18 final : builtin {
  static constexpr text_view name = "resnet18";
};
struct resnet34 final : builtin {
  static constexpr text_view name = "resnet34";
};
struct resnet50 final : builtin {
  static constexpr text_view name = "resnet50";
};
/// Two conv layers and two linear layers: the classic Fashion-MNIST baseline.
struct small_cnn final : builtin {
  static constexpr text_view name = "small_cnn";
  static constexpr bool any_input_size =
      false;  // its first Linear layer's size follows the image's
};

/// What the front end needs of a user module: a name and whether it can be exported.
template <class M>
concept user_module_description = requires {
  { M::name } -> std::convertible_to<text_view>;
  { M::onnx_exportable } -> std::convertible_to<bool>;
};

/// A user module; `Module` also satisfies trellis::core's trainable-module concept.
template <user_module_description Module>
struct user final {
  using kind = kinds::model;
  using module = Module;
  static constexpr text_view name = Module::name;
  static constexpr bool onnx_exportable = Module::onnx_exportable;
  static constexpr bool any_input_size = false;  // unknown: only the same size is safe
};

}  // namespace models
}  // namespace trellis
