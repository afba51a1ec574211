// expect-error: \[trellis E024\] distributed: nodes<N> exceeds the compute cluster's max_nodes\. Fix: lower nodes or raise max_nodes
// One mistake: nodes<8> on a cluster that scales to max_nodes<4>.
#include <trellis/trellis.hpp>
using namespace trellis;

int main() {
  auto p = dataset<image_folder, classes<5>, input_shape<3, 64, 64>>{.root = "data/fowl"}
         | environment<curated::pytorch_cuda>{}
         | compute<azure::nc24ads_a100_v4, max_nodes<4>, cluster<"gpu-cluster">>{}
         | distributed<pytorch, nodes<8>, procs<1>>{}
         | train<models::resnet18, epochs<30>>{.lr = 1e-3, .batch = 64};
  (void)p;
}
