// expect-error: \[trellis E025\] pipeline: a count is zero \(nodes, procs, epochs, global_batch, max_nodes or local gpus\)\. Fix: use at least 1
// One mistake: procs<0>.
#include <trellis/trellis.hpp>
using namespace trellis;

int main() {
  auto p = dataset<idx, classes<10>, input_shape<1, 28, 28>>{
               .root = "/usr/share/datasets/fashion-mnist"}
         | compute<local::cpu>{}
         | distributed<pytorch, nodes<1>, procs<0>>{}
         | train<models::small_cnn, epochs<5>>{.lr = 0.01, .batch = 64};
  (void)p;
}
