// expect-error: \[trellis E021\] environment: an Azure compute target needs an environment to run the job in\. Fix: add environment<curated::pytorch_cuda>
// One mistake: an Azure VM size but no environment stage.
#include <trellis/trellis.hpp>
using namespace trellis;

int main() {
  auto p = dataset<image_folder, classes<5>, input_shape<3, 64, 64>>{.root = "data/fowl"}
         | compute<azure::nc24ads_a100_v4, max_nodes<4>, cluster<"gpu-cluster">>{}
         | distributed<pytorch, nodes<2>, procs<1>>{}
         | train<models::resnet18, epochs<30>>{.lr = 1e-3, .batch = 64};
  (void)p;
}
