// progress: what rank 0 reports while it trains (each logging step, and each epoch's end with its
// validation), the progress_sink that receives it, and print_progress, the default one-line-per-
// report printer.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <iostream>
#include <optional>
#include <ostream>
#include <string>

#include <fmt/format.h>

namespace trellis::core {

/// Filled in once per epoch, after validation.
struct epoch_summary {
  double val_loss = 0.0;
  double val_accuracy = 0.0;
  double seconds = 0.0;  ///< the epoch's wall time, validation included
};

struct progress {
  std::size_t epoch = 0, epochs = 0;  ///< from 1
  std::size_t step = 0, steps = 0;    ///< optimizer steps within the epoch, from 1
  double loss = 0.0;                  ///< train loss since the last report, all ranks
  double images_per_s = 0.0;          ///< all ranks together
  double eta_seconds = 0.0;           ///< until the last epoch's last step
  std::optional<epoch_summary> end_of_epoch =
      std::nullopt;  ///< set only on the epoch's closing report
  std::optional<epoch_summary> test = std::nullopt;  ///< set only on the report after training
};

/// Called on rank 0 only. A sink that throws stops training (the exception leaves train_rank).
using progress_sink = std::function<void(const progress&)>;

namespace train_detail {
inline std::string clock_text(double seconds) {
  const auto s = static_cast<long long>(std::llround(std::max(seconds, 0.0)));
  return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
}
}  // namespace train_detail

/// `[trellis] epoch 1/12 step 100/469 loss 0.4123 1234 img/s eta 0:01:10` per logging step and
/// `[trellis] epoch 1/12 val_loss 0.3311 val_accuracy 0.8821 (12.3 s)` per epoch, flushed so a
/// driver streaming the log sees each line at once.
inline progress_sink print_progress(std::ostream& out = std::cout) {
  return [&out](const progress& p) {
    std::string line;
    if (p.test)
      line =
          fmt::format("[trellis] test of the selected model: test_loss {:.4f} test_accuracy {:.4f}",
                      p.test->val_loss, p.test->val_accuracy);
    else if (p.end_of_epoch)
      line = fmt::format("[trellis] epoch {}/{} val_loss {:.4f} val_accuracy {:.4f} ({:.1f} s)",
                         p.epoch, p.epochs, p.end_of_epoch->val_loss,
                         p.end_of_epoch->val_accuracy, p.end_of_epoch->seconds);
    else
      line = fmt::format("[trellis] epoch {}/{} step {}/{} loss {:.4f} {:.0f} img/s eta {}",
                         p.epoch, p.epochs, p.step, p.steps, p.loss, p.images_per_s,
                         train_detail::clock_text(p.eta_seconds));
    out << line << std::endl;
  };
}

}  // namespace trellis::core
