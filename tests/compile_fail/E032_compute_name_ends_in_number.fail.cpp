// expect-error: \[trellis E032\] compute: the cluster name breaks Azure's rule: 3-24 letters, digits or '-', starting with a letter, not ending in '-<digits>'
// One mistake: the cluster name ends in "-1".
#include <trellis/trellis.hpp>
using namespace trellis;

int main() {
  auto p = dataset<image_folder, classes<5>, input_shape<3, 64, 64>>{.root = "data/fowl"}
         | environment<curated::pytorch_cuda>{}
         | compute<azure::nc24ads_a100_v4, max_nodes<4>, cluster<"gpu-cluster-1">>{}
         | train<models::resnet18, epochs<30>>{.lr = 1e-3, .batch = 64};
  (void)p;
}
