// expect-error: \[trellis E033\] environment: the custom environment name breaks Azure's rule: 1-255 letters, digits, '-' or '_'
// One mistake: a '.' in the custom environment name.
#include <trellis/trellis.hpp>
using namespace trellis;

int main() {
  auto p = dataset<image_folder, classes<5>, input_shape<3, 64, 64>>{.root = "data/fowl"}
         | environment<custom<"pytorch-2.2-opencv">, cuda<12, 1>, torch_version<2, 2>>{
               .pip = {"opencv-python-headless"}}
         | compute<azure::nc24ads_a100_v4, max_nodes<4>, cluster<"gpu-cluster">>{}
         | train<models::resnet18, epochs<30>>{.lr = 1e-3, .batch = 64};
  (void)p;
}
