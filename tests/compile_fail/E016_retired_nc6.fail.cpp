// expect-error: \[trellis E016\] compute: azure::nc6 \(Standard_NC6, K80\) was retired on 2023-09-06\. Fix: use azure::nc4as_t4_v3
// One mistake: the retired NC6 (K80) size, as in older Azure ML tutorials.
#include <trellis/trellis.hpp>
using namespace trellis;

int main() {
  auto p = dataset<image_folder, classes<5>, input_shape<3, 64, 64>>{.root = "data/fowl"}
         | environment<curated::pytorch_1_13_cuda>{}
         | compute<azure::nc6, max_nodes<4>, cluster<"gpu-cluster">>{}
         | train<models::resnet18, epochs<30>>{.lr = 1e-3, .batch = 64};
  (void)p;
}
