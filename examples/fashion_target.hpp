// The transfer-learning scenario's small target task (build/bin/prepare_fashion writes its folder):
// examples/transfer_learning.cpp and its control, examples/from_scratch.cpp, both train on it, so
// the two runs differ in their starting weights alone.
#pragma once
#include <trellis/trellis.hpp>

inline auto fashion_target() {
  using namespace trellis;
  return dataset<image_folder, classes<5>, input_shape<1, 28, 28>>{
      .root = "data/fashion-target",
      .transform = {.hflip = true, .normalize = true, .mean = {0.286, 0, 0}, .std = {0.353, 1, 1}}};
}
