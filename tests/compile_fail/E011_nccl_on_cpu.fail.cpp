// expect-error: \[trellis E011\] distributed: NCCL needs GPUs, but the compute target has none\. Fix: drop nccl
// One mistake: nccl is asked for on local::cpu.
#include <trellis/trellis.hpp>
using namespace trellis;

int main() {
  auto p = dataset<idx, classes<10>, input_shape<1, 28, 28>>{
               .root = "/usr/share/datasets/fashion-mnist"}
         | compute<local::cpu>{}
         | distributed<pytorch, nodes<1>, procs<2>, nccl>{}
         | train<models::small_cnn, epochs<5>>{.lr = 0.01, .batch = 64};
  (void)p;
}
