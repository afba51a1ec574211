// expect-error: \[trellis E007\] distributed: there is no compute stage to place the ranks on\. Fix: add compute<local::cpu>
// One mistake: distributed comes without a compute stage.
#include <trellis/trellis.hpp>
using namespace trellis;

int main() {
  auto p = dataset<idx, classes<10>, input_shape<1, 28, 28>>{
               .root = "/usr/share/datasets/fashion-mnist"}
         | environment<curated::pytorch_cpu>{}
         | distributed<pytorch, nodes<1>, procs<4>>{}
         | train<models::small_cnn, epochs<5>>{.lr = 0.01, .batch = 64};
  (void)p;
}
