// make_builtin_model and make_user_model: a freshly initialised trellis::core::classifier, a
// built-in one by its type name (resnet18/34/50, small_cnn: builtin_models, the one list) or a
// user's trainable_module.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "trellis/core/models/classifier.hpp"
#include "trellis/core/models/resnet.hpp"
#include "trellis/core/models/small_cnn.hpp"
#include "trellis/core/models/user_module.hpp"

namespace trellis::core {

/// Image height and width; only models without global pooling (small_cnn) depend on them.
struct image_size {
  std::int64_t height = 28;
  std::int64_t width = 28;
};

/// A built-in model type: the name a pipeline, a model file or a registry record gives it.
struct builtin_model {
  std::string_view name;
  std::shared_ptr<classifier> (*make)(std::int64_t in_channels, std::int64_t classes, image_size);
};

namespace detail {
template <auto Resnet>
std::shared_ptr<classifier> make_resnet(std::int64_t in_channels, std::int64_t classes,
                                        image_size) {
  return Resnet(in_channels, classes);
}
inline std::shared_ptr<classifier> make_small_cnn(std::int64_t in_channels, std::int64_t classes,
                                                  image_size size) {
  return std::make_shared<small_cnn>(in_channels, classes, size.height, size.width);
}
}  // namespace detail

inline constexpr std::array builtin_models{
    builtin_model{"resnet18", detail::make_resnet<&resnet18>},
    builtin_model{"resnet34", detail::make_resnet<&resnet34>},
    builtin_model{"resnet50", detail::make_resnet<&resnet50>},
    builtin_model{"small_cnn", detail::make_small_cnn},
};

/// Whether `name` is a built-in model type; usable in constant expressions.
constexpr bool is_builtin_model(std::string_view name) {
  for (const auto& m : builtin_models)
    if (m.name == name) return true;
  return false;
}

/// The built-in model type named `name`; throws std::invalid_argument listing the names when
/// there is no such type.
inline std::shared_ptr<classifier> make_builtin_model(std::string_view name,
                                                      std::int64_t in_channels,
                                                      std::int64_t classes, image_size size = {}) {
  std::string known;
  for (const auto& m : builtin_models) {
    if (m.name == name) return m.make(in_channels, classes, size);
    known += (known.empty() ? "" : ", ") + std::string{m.name};
  }
  throw std::invalid_argument("[trellis] model type '" + std::string{name} +
                              "' is not built in (built in: " + known + ")");
}

/// A user's module M, built as M(in_channels, classes), as a classifier.
template <trainable_module M>
std::shared_ptr<classifier> make_user_model(std::int64_t in_channels, std::int64_t classes) {
  return std::make_shared<user_classifier<M>>(in_channels, classes);
}

}  // namespace trellis::core
