// expect-error: \[trellis E027\] compute: min_nodes is larger than max_nodes\. Fix: make min_nodes at most max_nodes
// One mistake: min_nodes<4> with max_nodes<2>.
#include <trellis/trellis.hpp>
using namespace trellis;

int main() {
  auto p = dataset<idx, classes<10>, input_shape<1, 28, 28>>{
               .root = "/usr/share/datasets/fashion-mnist"}
         | environment<curated::pytorch_cpu>{}
         | compute<azure::d13_v2, min_nodes<4>, max_nodes<2>, cluster<"cpu-cluster">>{}
         | train<models::small_cnn, epochs<5>>{.lr = 0.01, .batch = 64};
  (void)p;
}
