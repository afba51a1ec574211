// expect-error: \[trellis E031\] train: the experiment name breaks Azure's rule: 1-255 letters, digits, '-' or '_'
// One mistake: a '/' in the experiment name.
#include <trellis/trellis.hpp>
using namespace trellis;

int main() {
  auto p = dataset<image_folder, classes<5>, input_shape<3, 64, 64>>{.root = "data/fowl"}
         | environment<curated::pytorch_cuda>{}
         | compute<azure::nc24ads_a100_v4, max_nodes<4>, cluster<"gpu-cluster">>{}
         | train<models::resnet18, epochs<30>, experiment<"birds/resnet18">>{
               .lr = 1e-3, .batch = 64};
  (void)p;
}
