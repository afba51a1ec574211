// expect-error: \[trellis E029\] dataset: a classifier needs at least 2 classes\. Fix: use classes<N> with N >= 2
// One mistake: classes<1> (e.g. only the positive class folder was counted).
#include <trellis/trellis.hpp>
using namespace trellis;

int main() {
  auto p = dataset<image_folder, classes<1>, input_shape<3, 64, 64>>{.root = "data/fowl"}
         | compute<local::cpu>{}
         | train<models::resnet18, epochs<10>>{.lr = 1e-3, .batch = 32};
  (void)p;
}
