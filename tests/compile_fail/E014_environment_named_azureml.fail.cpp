// expect-error: \[trellis E014\] environment: custom environment names must not start with 'AzureML', which Azure reserves
// One mistake: a custom environment named like a curated one.
#include <trellis/trellis.hpp>
using namespace trellis;

int main() {
  auto p = dataset<image_folder, classes<5>, input_shape<3, 64, 64>>{.root = "data/fowl"}
         | environment<custom<"AzureML-pytorch-birds">, cuda<12, 1>, torch_version<2, 2>>{
               .pip = {"torchvision"}}
         | compute<azure::nc24ads_a100_v4, max_nodes<4>, cluster<"gpu-cluster">>{}
         | train<models::resnet18, epochs<30>>{.lr = 1e-3, .batch = 64};
  (void)p;
}
