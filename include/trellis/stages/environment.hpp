// environment<curated::preset> or environment<custom<"name">, base_image<...>, cuda<M,m>,
// torch_version<M,m>, with_mpi>{.pip = {...}}: what the job runs in. Rules: E012-E015, E033,
// E037.
#pragma once
#include <cstddef>

#include "trellis/text.hpp"
#include "trellis/params/param.hpp"
#include "trellis/stages/stage.hpp"
#include "trellis/targets/environments.hpp"

namespace trellis {

/// What the rules read of an `environment`; the defaults stand for a pipeline without one.
struct environment_facts {
  param_flags params;
  std::size_t cuda = 0;   ///< CUDA major*100+minor, 0 for a CPU image
  std::size_t torch = 0;  ///< the torch it requires, major*100+minor, 0 for any
  bool mpi = false, curated = false;
  text_view name, image;
  bool official_build = true;  ///< torch has an official build for cuda (rule E037)
};

/// `f` with official_build worked out from its torch and CUDA versions: once per environment
/// type, not at every `|`.
constexpr environment_facts with_official_build(environment_facts f) {
  f.official_build = has_official_build(f.torch, f.cuda);
  return f;
}

/// What an `environment` has of a kind when no parameter of that kind is given; `absent` where
/// the default is the source's (facts.cuda and facts.torch).
struct environment_defaults {
  using environment_source = custom<"unnamed">;
  using base_image = trellis::base_image<"">;
  using cuda_version = absent;
  using torch_version = absent;
  using mpi_support = absent;
};

template <class... Ps>
struct environment {
  static constexpr stage_order order = stage_order::environment;
  using accepted_kinds = kind_list<kinds::environment_source, kinds::base_image,
                                   kinds::cuda_version, kinds::torch_version, kinds::mpi_support>;
  using required_kinds = kind_list<kinds::environment_source>;
  using param_kinds = kinds_of<Ps...>;
  /// The parameters given, over the defaults: see given_t.
  using given = given_t<environment_defaults, Ps...>;
  using source = typename given::environment_source;
  // One constant holds every compile-time value, as in the other stages.
  static constexpr environment_facts facts = with_official_build({
      .params = param_flags_v<accepted_kinds, required_kinds, param_kinds>,
      .cuda = value_or<typename given::cuda_version>(source::cuda),
      .torch = value_or<typename given::torch_version>(source::torch),
      .mpi = source::mpi || has_kind_v<kinds::mpi_support, param_kinds>,
      .curated = source::curated,
      .name = source::name,
      .image = given::base_image::name.empty() ? source::image : given::base_image::name});

  text_list pip{};  ///< extra pip requirements (custom environments)
  text conda_file{};        ///< a conda specification file (custom environments)

  template <class Self, class Fields>
  static void fields(Self& self, Fields& f) {
    f.fixed("name", facts.name);
    f.fixed("curated", facts.curated);
    f.fixed("image", facts.image);
    f.fixed("cuda", version{facts.cuda});
    f.fixed("torch", version{facts.torch});
    f.fixed("mpi", facts.mpi);
    f.setting("pip", self.pip);
    f.setting("conda_file", self.conda_file);
  }
};

}  // namespace trellis
