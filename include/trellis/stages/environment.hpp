// environment<curated::preset> or environment<custom<"name">, base_image<...>, cuda<M,m>,
// torch_version<M,m>, with_mpi>{.pip = {...}}: what the job runs in. Rules: E012-E015, E033.
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
  std::size_t cuda = 0;
  bool mpi = false, curated = false;
  text_view name;
};

/// What an `environment` has of a kind when no parameter of that kind is given; `absent` where
/// the default is the source's (see cuda_version and torch_required).
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
  using accepted_kinds = kind_list<kinds::environment_source, kinds::base_image, kinds::cuda_version,
                                   kinds::torch_version, kinds::mpi_support>;
  using required_kinds = kind_list<kinds::environment_source>;
  using param_kinds = kinds_of<Ps...>;
  /// The parameters given, over the defaults: see given_t.
  using given = given_t<environment_defaults, Ps...>;
  using source = typename given::environment_source;
  static constexpr bool is_curated = source::curated;
  static constexpr text_view name = source::name;
  static constexpr text_view image =
      given::base_image::name.empty() ? source::image : given::base_image::name;
  /// CUDA major*100+minor, 0 for a CPU image.
  static constexpr std::size_t cuda_version = value_or<typename given::cuda_version>(source::cuda);
  static constexpr std::size_t torch_required =
      value_or<typename given::torch_version>(source::torch);
  static constexpr bool mpi = source::mpi || has_kind_v<kinds::mpi_support, param_kinds>;
  static constexpr environment_facts facts{
      param_flags_v<accepted_kinds, required_kinds, param_kinds>, cuda_version, mpi, is_curated,
      name};

  text_list pip{};  ///< extra pip requirements (custom environments)
  text conda_file{};        ///< a conda specification file (custom environments)

  template <class Self, class Fields>
  static void fields(Self& self, Fields& f) {
    f.fixed("name", name);
    f.fixed("curated", is_curated);
    f.fixed("image", image);
    f.fixed("cuda", version{cuda_version});
    f.fixed("torch", version{torch_required});
    f.fixed("mpi", mpi);
    f.setting("pip", self.pip);
    f.setting("conda_file", self.conda_file);
  }
};

}  // namespace trellis
