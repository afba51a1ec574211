// pipeline_view: a pipeline's stage list as types, for what needs the stage types themselves: a
// broken rule's context (the types its diagnostic prints) and plan writers. Each stage is found
// by its order, or stands in with its defaults (compute: local::cpu; distributed: one process).
#pragma once
#include <cstddef>
#include <type_traits>

#include "trellis/rules/facts.hpp"
#include "trellis/stages/compute.hpp"
#include "trellis/stages/dataset.hpp"
#include "trellis/stages/distributed.hpp"
#include "trellis/stages/environment.hpp"
#include "trellis/stages/export_onnx.hpp"
#include "trellis/stages/register_model.hpp"
#include "trellis/stages/stage.hpp"
#include "trellis/stages/train.hpp"

namespace trellis {

namespace detail {
template <stage_order O, class Default, class... S>
struct stage_or_default {
  using type = Default;
};
template <stage_order O, class Default, class S, class... Rest>
struct stage_or_default<O, Default, S, Rest...>
    : std::conditional_t<S::order == O, std::type_identity<S>,
                         stage_or_default<O, Default, Rest...>> {};
}  // namespace detail

template <class... S>
struct pipeline_view {
  template <stage_order O>
  static constexpr bool has = ((S::order == O) || ...);
  template <stage_order O, class Default>
  using get = typename detail::stage_or_default<O, Default, S...>::type;

  static constexpr std::size_t count = sizeof...(S);
  static constexpr stage_order orders[count] = {S::order...};

  // Named as stage_order names the stages: V::train is the train stage, V::has_train says
  // whether the pipeline has one (else V::train is train<> with its defaults).
  using dataset = get<stage_order::dataset, trellis::dataset<>>;
  using environment = get<stage_order::environment, trellis::environment<>>;
  using compute = get<stage_order::compute, trellis::compute<local::cpu>>;
  using distributed = get<stage_order::distributed, trellis::distributed<>>;
  using train = get<stage_order::train, trellis::train<>>;
  using register_model = get<stage_order::register_model, trellis::register_model<"model">>;
  using export_onnx = get<stage_order::export_onnx, trellis::export_onnx<>>;
  using target = typename compute::target;

  static constexpr bool has_dataset = has<stage_order::dataset>;
  static constexpr bool has_environment = has<stage_order::environment>;
  static constexpr bool has_compute = has<stage_order::compute>;
  static constexpr bool has_distributed = has<stage_order::distributed>;
  static constexpr bool has_train = has<stage_order::train>;
  static constexpr bool has_register_model = has<stage_order::register_model>;
  static constexpr bool has_export_onnx = has<stage_order::export_onnx>;

  // Computed where the rules compute them: pipeline_facts.
  static constexpr bool gpu = facts_of<S...>.compute->has_gpus;
  static constexpr std::size_t world_size = facts_of<S...>.world_size();
  static constexpr bool uses_nccl = facts_of<S...>.uses_nccl();
};

}  // namespace trellis
