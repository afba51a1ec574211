// expect-error: \[trellis E037\] environment: PyTorch publishes no build of this torch_version for this CUDA version
// expect-also: torch_version<2, 5>, trellis::cuda<11, 7>, trellis::built_for<trellis::cuda<11, 8>, trellis::cuda<12, 1>, trellis::cuda<12, 4>
// One mistake: torch 2.5 with CUDA 11.7; torch 2.5 is built for CUDA 11.8, 12.1 and 12.4, which
// the error names.
#include <trellis/trellis.hpp>
using namespace trellis;

int main() {
  auto p = dataset<image_folder, classes<5>, input_shape<3, 64, 64>>{.root = "data/fowl"}
         | environment<custom<"birds-cu117">, torch_version<2, 5>, cuda<11, 7>>{
               .pip = {"torchvision"}}
         | compute<azure::nc24ads_a100_v4, cluster<"gpu-cluster">>{}
         | train<models::resnet18, epochs<30>>{.lr = 1e-3, .batch = 64};
  (void)p;
}
