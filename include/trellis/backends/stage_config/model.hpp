// make_model<Tag>: the core model behind a front-end model tag (models::resnet18/34/50,
// models::small_cnn: core::make_builtin_model by the tag's name; models::user<M>:
// core::make_user_model<M>), freshly initialised.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <type_traits>

#include "trellis/core/models/make_model.hpp"
#include "trellis/diagnostics.hpp"
#include "trellis/models.hpp"
#include "trellis/params/data.hpp"

namespace trellis::backends {

template <class Tag>
inline constexpr bool is_user_model_v = false;
template <class M>
inline constexpr bool is_user_model_v<models::user<M>> = true;

template <class Tag>
std::shared_ptr<core::classifier> make_model(std::int64_t in_channels, std::int64_t classes,
                                             core::image_size size = {}) {
  if constexpr (is_user_model_v<Tag>) {
    static_assert(
        core::trainable_module<typename Tag::module>,
        "[trellis] models::user<M>: M must satisfy trellis::core::trainable_module "
        "(derive from torch::nn::Module, M(in_channels, classes), forward(Tensor) -> Tensor)");
    if constexpr (core::trainable_module<typename Tag::module>)
      return core::make_user_model<typename Tag::module>(in_channels, classes);
    else
      return nullptr;
  } else if constexpr (std::is_base_of_v<models::builtin, Tag>) {
    constexpr std::string_view name{Tag::name.data(), Tag::name.size()};
    static_assert(core::is_builtin_model(name),
                  "[trellis] make_model: a built-in model tag without its entry in "
                  "trellis::core::builtin_models (core/models/make_model.hpp)");
    return core::make_builtin_model(name, in_channels, classes, size);
  } else {
    static_assert(dependent_false<Tag>,
                  "[trellis] make_model: not a model tag (use models::resnet18/34/50, "
                  "models::small_cnn or models::user<M>)");
    return nullptr;
  }
}

/// The model for a dataset's input_shape<C, H, W>: make_model<Tag>(C, classes, {H, W}).
template <class Tag, std::size_t C, std::size_t H, std::size_t W>
std::shared_ptr<core::classifier> make_model(input_shape<C, H, W>, std::int64_t classes) {
  return make_model<Tag>(C, classes, {H, W});
}

}  // namespace trellis::backends
