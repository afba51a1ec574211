// expect-error: \[trellis E026\] train: global_batch<N> does not divide by the world size \(nodes x procs\)
// One mistake: global_batch<64> over 3 ranks.
#include <trellis/trellis.hpp>
using namespace trellis;

int main() {
  auto p = dataset<idx, classes<10>, input_shape<1, 28, 28>>{
               .root = "/usr/share/datasets/fashion-mnist"}
         | compute<local::cpu>{}
         | distributed<pytorch, nodes<1>, procs<3>>{}
         | train<models::small_cnn, epochs<5>, global_batch<64>>{.lr = 0.01};
  (void)p;
}
