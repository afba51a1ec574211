// expect-error: \[trellis E002\] pipeline: the same stage appears twice\. Fix: keep one of each stage
// One mistake: a warm-up train stage followed by a second train stage.
#include <trellis/trellis.hpp>
using namespace trellis;

int main() {
  auto p = dataset<image_folder, classes<5>, input_shape<3, 64, 64>>{.root = "data/fowl"}
         | environment<curated::pytorch_cpu>{}
         | compute<local::cpu>{}
         | train<models::resnet18, epochs<2>>{.lr = 1e-2}
         | train<models::resnet18, epochs<30>>{.lr = 1e-3};
  (void)p;
}
