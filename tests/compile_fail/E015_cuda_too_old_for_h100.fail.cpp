// expect-error: \[trellis E015\] environment: its CUDA version cannot drive the GPU of the compute target \(H100 needs CUDA 11\.8\+
// One mistake: the CUDA 11.7 environment on an H100 VM size (H100 needs CUDA 11.8 or newer).
#include <trellis/trellis.hpp>
using namespace trellis;

int main() {
  auto p = dataset<image_folder, classes<5>, input_shape<3, 64, 64>>{.root = "data/fowl"}
         | environment<curated::pytorch_1_13_cuda>{}
         | compute<azure::nd96isr_h100_v5, max_nodes<2>, cluster<"h100-cluster">>{}
         | distributed<pytorch, nodes<2>, procs<8>>{}
         | train<models::resnet50, epochs<30>>{.lr = 1e-3, .batch = 64};
  (void)p;
}
