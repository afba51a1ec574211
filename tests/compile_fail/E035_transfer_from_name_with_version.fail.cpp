// expect-error: \[trellis E035\] train: transfer_from names no valid registered model: names are 1-255 letters, digits, '-' or '_'
// One mistake: transfer_from<"fashion-base:3"> adds a version to the model name.
#include <trellis/trellis.hpp>
using namespace trellis;

int main() {
  auto p = dataset<image_folder, classes<5>, input_shape<3, 64, 64>>{.root = "data/fowl"}
         | environment<curated::pytorch_cuda>{}
         | compute<azure::nc24ads_a100_v4, max_nodes<4>, cluster<"gpu-cluster">>{}
         | train<models::resnet18, epochs<30>, transfer_from<"fashion-base:3">>{
               .lr = 1e-3, .batch = 64};
  (void)p;
}
