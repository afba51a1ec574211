// expect-error: \[trellis E036\] compute: low_priority is a priority of Azure ML compute; a local target is never preempted\. Fix: remove low_priority
// One mistake: low_priority on this machine's CPU (checkpoints are on, so E017 does not apply).
#include <trellis/trellis.hpp>
using namespace trellis;

int main() {
  auto p = dataset<idx, classes<10>>{.root = "/usr/share/datasets/fashion-mnist"}
         | compute<local::cpu, low_priority>{}
         | distributed<PyTorch, nodes<1>, procs<2>>{}
         | train<models::small_cnn, epochs<2>>{.lr = 0.05};
  (void)p;
}
