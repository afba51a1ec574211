// learning_rate: the rate of one optimizer step under a train_config's schedule, a pure function
// of where the step is, so a resumed run needs no scheduler state.
#pragma once
#include <cmath>
#include <cstddef>
#include <numbers>

#include "trellis/core/train/config.hpp"

namespace trellis::core {

/// Where an optimizer step is: its epoch and its index among all steps (both from 0).
struct step_position {
  std::size_t epoch = 0;
  std::size_t step = 0;
  std::size_t total_steps = 1;  ///< steps of the whole run, all epochs
};

/// constant: lr. step: lr x 0.1 per completed third of the epochs (ceil(epochs / 3) epochs each,
/// so 12 epochs decay after 4 and 8). cosine: lr (1 + cos(pi step / total)) / 2, from lr at the
/// first step towards 0 after the last.
inline double learning_rate(const train_config& c, step_position at) {
  if (c.schedule == "step") {
    const std::size_t period = (c.epochs + 2) / 3;
    return c.lr * std::pow(0.1, static_cast<double>(at.epoch / (period == 0 ? 1 : period)));
  }
  if (c.schedule == "cosine") {
    const double progress = static_cast<double>(at.step) /
                            static_cast<double>(at.total_steps == 0 ? 1 : at.total_steps);
    return c.lr * 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
  }
  return c.lr;
}

}  // namespace trellis::core
