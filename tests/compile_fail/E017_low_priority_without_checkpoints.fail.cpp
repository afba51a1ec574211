// expect-error: \[trellis E017\] train: low_priority compute can be preempted, but train writes no checkpoints\. Fix: use checkpoint_every<N>
// One mistake: low_priority VMs while train turns checkpoints off.
#include <trellis/trellis.hpp>
using namespace trellis;

int main() {
  auto p = dataset<image_folder, classes<5>, input_shape<3, 64, 64>>{.root = "data/fowl"}
         | environment<curated::pytorch_cuda>{}
         | compute<azure::nc24ads_a100_v4, max_nodes<4>, low_priority, cluster<"spot-gpus">>{}
         | distributed<pytorch, nodes<2>, procs<1>>{}
         | train<models::resnet18, epochs<30>, checkpoint_every<0>>{.lr = 1e-3, .batch = 64};
  (void)p;
}
