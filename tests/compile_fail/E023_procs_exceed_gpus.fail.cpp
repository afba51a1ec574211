// expect-error: \[trellis E023\] distributed: procs<P> exceeds the GPUs per node of the compute target
// One mistake: procs<8> on a VM size with 4 GPUs per node.
#include <trellis/trellis.hpp>
using namespace trellis;

int main() {
  auto p = dataset<image_folder, classes<5>, input_shape<3, 64, 64>>{.root = "data/fowl"}
         | environment<curated::pytorch_cuda>{}
         | compute<azure::nc96ads_a100_v4, max_nodes<4>, cluster<"gpu-cluster">>{}
         | distributed<PyTorch, nodes<2>, procs<8>>{}
         | train<models::resnet50, epochs<30>>{.lr = 1e-3, .batch = 64};
  (void)p;
}
