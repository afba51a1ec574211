// register_model<"name">{.description = ..., .tags = ...}: a new model version in the
// workspace registry from rank 0's outputs. Rules: E004 (needs train), E030 (name).
#pragma once

#include "trellis/text.hpp"
#include "trellis/fixed_string.hpp"
#include "trellis/params/param.hpp"
#include "trellis/stages/stage.hpp"

namespace trellis {

/// A `register_model`'s compile-time values, which rules and plan writers read.
struct register_model_facts {
  param_flags params;
  text_view name;
};

template <fixed_string Name, class... Ps>
struct register_model {
  static constexpr stage_order order = stage_order::register_model;
  using accepted_kinds = kind_list<>;
  using required_kinds = kind_list<>;
  using param_kinds = kinds_of<Ps...>;
  static constexpr register_model_facts facts{
      .params = param_flags_v<accepted_kinds, required_kinds, param_kinds>, .name = Name.view()};

  text description{};
  tag_list tags{};

  template <class Self, class Fields>
  static void fields(Self& self, Fields& f) {
    f.fixed("name", facts.name);
    f.setting("description", self.description);
    f.setting("tags", self.tags);
  }
};

}  // namespace trellis
