// What makes a type a pipeline stage: a keyword, its place in the fixed stage order, the
// parameter kinds it accepts, requires and was given, its `facts` (one constant of compile-time
// values, which rules and plan writers read, beginning with what its parameters break), and a
// `fields` function listing compile-time values (`fixed`), run-time values (`setting`, with the
// limits they accept) and run-time values its parameters make meaningless (`inapplicable`).
#pragma once
#include <cstddef>

#include "trellis/stages/limits.hpp"
#include "trellis/text.hpp"

namespace trellis {

/// The one order stages may appear in (rule E001).
enum class stage_order : std::size_t {
  dataset,
  environment,
  compute,
  distributed,
  train,
  register_model,
  export_onnx,
  count
};

inline constexpr text_view stage_keywords[] = {
    "dataset", "environment", "compute", "distributed", "train", "register_model", "export_onnx"};

/// A major*100+minor version number; field writers print it as "12.1" (0: none).
struct version {
  std::size_t value;
};

/// A channels x height x width shape; field writers print it as [C, H, W].
struct dims {
  std::size_t channels, height, width;
};

/// A stage: a type whose `facts` begin with param_flags, which only the stages above have. The
/// concept names that one member, as `|` checks it for every operand and each member it names
/// is one more look-up, per stage type, for g++; tests/static/structure.cpp checks that every
/// stage has the whole protocol.
template <class T>
concept stage = requires { T::facts.params; };

}  // namespace trellis
