// make_model<Tag>: the LibTorch module behind a front-end model tag (models::resnet18/34/50,
// models::small_cnn, models::user<M> with M a trellis::core::trainable_module), built freshly
// initialised as a trellis::core::classifier.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>

#include "trellis/core/models/classifier.hpp"
#include "trellis/core/models/resnet.hpp"
#include "trellis/core/models/small_cnn.hpp"
#include "trellis/core/models/user_module.hpp"
#include "trellis/diagnostics.hpp"
#include "trellis/models.hpp"
#include "trellis/params/data.hpp"

namespace trellis::core {

/// Image height and width; only models without global pooling (small_cnn) depend on them.
struct image_size {
  std::int64_t height = 28;
  std::int64_t width = 28;
};

template <class Tag>
inline constexpr bool is_user_model_v = false;
template <class M>
inline constexpr bool is_user_model_v<models::user<M>> = true;

template <class Tag>
std::shared_ptr<classifier> make_model(std::int64_t in_channels, std::int64_t classes,
                                       image_size size = {}) {
  if constexpr (std::is_same_v<Tag, models::resnet18>) {
    return resnet18(in_channels, classes);
  } else if constexpr (std::is_same_v<Tag, models::resnet34>) {
    return resnet34(in_channels, classes);
  } else if constexpr (std::is_same_v<Tag, models::resnet50>) {
    return resnet50(in_channels, classes);
  } else if constexpr (std::is_same_v<Tag, models::small_cnn>) {
    return std::make_shared<small_cnn>(in_channels, classes, size.height, size.width);
  } else if constexpr (is_user_model_v<Tag>) {
    static_assert(
        trainable_module<typename Tag::module>,
        "[trellis] models::user<M>: M must satisfy trellis::core::trainable_module "
        "(derive from torch::nn::Module, M(in_channels, classes), forward(Tensor) -> Tensor)");
    if constexpr (trainable_module<typename Tag::module>)
      return std::make_shared<user_classifier<typename Tag::module>>(in_channels, classes);
    else
      return nullptr;
  } else {
    static_assert(dependent_false<Tag>,
                  "[trellis] make_model: not a model tag (use models::resnet18/34/50, "
                  "models::small_cnn or models::user<M>)");
    return nullptr;
  }
}

/// The built-in model types, which a model file or registry record names by text.
using builtin_models =
    std::tuple<models::resnet18, models::resnet34, models::resnet50, models::small_cnn>;

/// make_model for the built-in type named `name` ("resnet18", ..., "small_cnn"); throws
/// std::invalid_argument listing the names when there is no such type.
inline std::shared_ptr<classifier> make_builtin_model(std::string_view name,
                                                      std::int64_t in_channels,
                                                      std::int64_t classes, image_size size = {}) {
  std::shared_ptr<classifier> model;
  std::string known;
  std::apply(
      [&]<class... Tag>(Tag...) {
        ((std::string_view{Tag::name.data(), Tag::name.size()} == name
              ? void(model = make_model<Tag>(in_channels, classes, size))
              : void()),
         ...);
        ((known += (known.empty() ? "" : ", ") + std::string{Tag::name.data(), Tag::name.size()}),
         ...);
      },
      builtin_models{});
  if (!model)
    throw std::invalid_argument("[trellis] model type '" + std::string{name} +
                                "' is not built in (built in: " + known + ")");
  return model;
}

/// The model for a dataset's input_shape<C, H, W>: make_model<Tag>(shape{}, classes).
template <class Tag, std::size_t C, std::size_t H, std::size_t W>
std::shared_ptr<classifier> make_model(input_shape<C, H, W>, std::int64_t classes) {
  return make_model<Tag>(C, classes, {H, W});
}

}  // namespace trellis::core
