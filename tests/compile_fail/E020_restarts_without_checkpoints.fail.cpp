// expect-error: \[trellis E020\] train: distributed asks for max_restarts, but train writes no checkpoint to restart from\.
// One mistake: max_restarts<3> while train turns checkpoints off.
#include <trellis/trellis.hpp>
using namespace trellis;

int main() {
  auto p = dataset<idx, classes<10>, input_shape<1, 28, 28>>{
               .root = "/usr/share/datasets/fashion-mnist"}
         | compute<local::cpu>{}
         | distributed<pytorch, nodes<1>, procs<4>, max_restarts<3>>{}
         | train<models::small_cnn, epochs<20>, checkpoint_every<0>>{.lr = 0.01, .batch = 64};
  (void)p;
}
