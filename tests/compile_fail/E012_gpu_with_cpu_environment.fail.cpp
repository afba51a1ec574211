// expect-error: \[trellis E012\] environment: the compute target has GPUs but the environment has no CUDA\. Fix: use curated::pytorch_cuda
// One mistake: an A100 VM size with the CPU-only PyTorch environment.
#include <trellis/trellis.hpp>
using namespace trellis;

int main() {
  auto p = dataset<image_folder, classes<5>, input_shape<3, 64, 64>>{.root = "data/fowl"}
         | environment<curated::pytorch_cpu>{}
         | compute<azure::nc24ads_a100_v4, max_nodes<4>, cluster<"gpu-cluster">>{}
         | distributed<pytorch, nodes<2>, procs<1>>{}
         | train<models::resnet18, epochs<30>>{.lr = 1e-3, .batch = 64};
  (void)p;
}
