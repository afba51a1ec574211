// expect-error: \[trellis E001\] pipeline: a stage comes after a stage that must follow it\. Fix: order stages as dataset \| environment \| compute
// One mistake: compute is placed after train.
#include <trellis/trellis.hpp>
using namespace trellis;

int main() {
  auto p = dataset<idx, classes<10>, input_shape<1, 28, 28>>{
               .root = "/usr/share/datasets/fashion-mnist"}
         | environment<curated::pytorch_cpu>{}
         | train<models::small_cnn, epochs<5>>{.lr = 0.01, .batch = 64}
         | compute<local::cpu>{};
  (void)p;
}
