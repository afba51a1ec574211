// expect-error: \[trellis E034\] train: select_best names a metric train does not log\. Fix: use train_loss, val_loss, val_accuracy, lr or images_per_s
// One mistake: select_best<"val_f1"> but nothing logs val_f1.
#include <trellis/trellis.hpp>
using namespace trellis;

int main() {
  auto p = dataset<image_folder, classes<5>, input_shape<3, 64, 64>>{.root = "data/fowl"}
         | compute<local::cpu>{}
         | train<models::resnet18, epochs<30>, select_best<"val_f1">>{.lr = 1e-3, .batch = 32};
  (void)p;
}
