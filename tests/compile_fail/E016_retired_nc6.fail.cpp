// expect-error: \[trellis E016\] compute: this VM size is retired, so Azure can no longer create it\. Fix: use the size it is replaced_by<\.\.\.>
// expect-also: azure::nc6, trellis::azure::replaced_by<trellis::azure::nc4as_t4_v3>
// One mistake: the retired NC6 (K80) size, as in older Azure ML tutorials. The error names
// its replacement from the VM size catalog.
#include <trellis/trellis.hpp>
using namespace trellis;

int main() {
  auto p = dataset<image_folder, classes<5>, input_shape<3, 64, 64>>{.root = "data/fowl"}
         | environment<curated::pytorch_1_13_cuda>{}
         | compute<azure::nc6, max_nodes<4>, cluster<"gpu-cluster">>{}
         | train<models::resnet18, epochs<30>>{.lr = 1e-3, .batch = 64};
  (void)p;
}
