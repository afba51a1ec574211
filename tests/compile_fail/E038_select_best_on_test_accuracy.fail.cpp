// expect-error: \[trellis E038\] train: select_best names a test metric; a model chosen on its test data would overstate what it does on new data\. Fix: select on val_accuracy or val_loss
// expect-also: select_best<.*"test_accuracy"
// One mistake: the best epoch chosen on the test split.
#include <trellis/trellis.hpp>
using namespace trellis;

int main() {
  auto p = dataset<image_folder, classes<5>, input_shape<3, 64, 64>>{.root = "data/fowl"}
         | compute<local::cpu>{}
         | train<models::resnet18, epochs<30>, select_best<"test_accuracy">>{
               .lr = 1e-3, .batch = 32};
  (void)p;
}
