// expect-error: \[trellis E008\] stage: a parameter does not belong to this stage\. Fix: move it to the stage that takes it
// One mistake: procs<4> is given to train instead of distributed.
#include <trellis/trellis.hpp>
using namespace trellis;

int main() {
  auto p = dataset<idx, classes<10>, input_shape<1, 28, 28>>{
               .root = "/usr/share/datasets/fashion-mnist"}
         | compute<local::cpu>{}
         | train<models::small_cnn, epochs<5>, procs<4>>{.lr = 0.01, .batch = 64};
  (void)p;
}
