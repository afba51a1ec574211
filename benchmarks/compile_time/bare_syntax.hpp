// The baseline of compile_time.sh: stand-ins for the names its pipelines use, with trellis's
// shapes (class templates of parameter types, trellis's own `text` and `fixed_string`, `|`
// nesting two stages by value) and nothing else: no traits, no facts, no rules. Compiling the
// same source against them measures what the syntax costs by itself, so the script can print
// what trellis's checking adds.
#pragma once
#include <cstddef>

#include "trellis/fixed_string.hpp"
#include "trellis/text.hpp"

namespace trellis {

template <std::size_t N>
struct classes {};
template <std::size_t C, std::size_t H, std::size_t W>
struct input_shape {};
template <std::size_t N>
struct max_nodes {};
template <std::size_t N>
struct nodes {};
template <std::size_t N>
struct procs {};
template <std::size_t N>
struct epochs {};
template <std::size_t N>
struct global_batch {};
template <std::size_t N>
struct opset {};
struct image_folder {};
struct PyTorch {};
namespace curated {
struct pytorch_cuda {};
}  // namespace curated
namespace azure {
struct nc96ads_a100_v4 {};
}  // namespace azure
namespace models {
struct resnet18 {};
}  // namespace models

template <class... Ps>
struct dataset {
  text root;
  std::size_t workers = 2;
};
template <class... Ps>
struct environment {
  text image;
};
template <class... Ps>
struct compute {
  text cluster;
};
template <class... Ps>
struct distributed {
  std::size_t port = 29500;
};
template <class... Ps>
struct train {
  double lr = 0.01;
  std::size_t batch = 32;
};
template <fixed_string Name>
struct register_model {
  text description;
};
template <class... Ps>
struct export_onnx {
  text path;
};

struct no_stages {};
template <class Prefix, class Last>
struct pipeline_node {
  Prefix prefix;
  Last last;
};
template <class L, class R>
[[gnu::always_inline]] constexpr pipeline_node<pipeline_node<no_stages, L>, R> operator|(
    const L& lhs, const R& rhs) {
  return {{{}, lhs}, rhs};
}
template <class Prefix, class Last, class R>
[[gnu::always_inline]] constexpr pipeline_node<pipeline_node<Prefix, Last>, R> operator|(
    const pipeline_node<Prefix, Last>& lhs, const R& rhs) {
  return {lhs, rhs};
}

template <class P>
inline constexpr bool is_valid_v = true;

}  // namespace trellis
