// expect-error: \[trellis E010\] stage: a required parameter is missing \(dataset: a kind and classes<N>.*distributed: a framework
// One mistake: distributed names no framework (pytorch or mpi).
#include <trellis/trellis.hpp>
using namespace trellis;

int main() {
  auto p = dataset<idx, classes<10>, input_shape<1, 28, 28>>{
               .root = "/usr/share/datasets/fashion-mnist"}
         | compute<local::cpu>{}
         | distributed<nodes<1>, procs<2>>{}
         | train<models::small_cnn, epochs<5>>{.lr = 0.01, .batch = 64};
  (void)p;
}
