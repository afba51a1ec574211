// expect-error: \[trellis E009\] stage: a parameter of the same kind is given twice\. Fix: keep one value
// One mistake: train gets epochs<10> and epochs<30>.
#include <trellis/trellis.hpp>
using namespace trellis;

int main() {
  auto p = dataset<image_folder, classes<5>, input_shape<3, 64, 64>>{.root = "data/fowl"}
         | compute<local::cpu>{}
         | train<models::resnet18, epochs<10>, adam, epochs<30>>{.lr = 1e-3, .batch = 32};
  (void)p;
}
