// expect-error: \[trellis E028\] distributed: nodes x procs exceeds the GPUs of local::cuda
// One mistake: 2 local nodes x 2 procs = 4 ranks on a machine with 2 GPUs.
#include <trellis/trellis.hpp>
using namespace trellis;

int main() {
  auto p = dataset<idx, classes<10>, input_shape<1, 28, 28>>{
               .root = "/usr/share/datasets/fashion-mnist"}
         | environment<curated::pytorch_cuda>{}
         | compute<local::cuda<gpus<2>>>{}
         | distributed<pytorch, nodes<2>, procs<2>>{}
         | train<models::small_cnn, epochs<5>>{.lr = 0.01, .batch = 64};
  (void)p;
}
