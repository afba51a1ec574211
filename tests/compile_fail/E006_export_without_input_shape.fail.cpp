// expect-error: \[trellis E006\] export_onnx: the dataset has no static input shape to trace the model with\. Fix: give the dataset input_shape<C, H, W>
// One mistake: the dataset has no input_shape, so export_onnx cannot trace the model.
#include <trellis/trellis.hpp>
using namespace trellis;

int main() {
  auto p = dataset<image_folder, classes<5>>{.root = "data/fowl"}
         | compute<local::cpu>{}
         | train<models::resnet18, epochs<10>>{.lr = 1e-3, .batch = 32}
         | register_model<"pytorch-birds">{}
         | export_onnx<opset<17>>{};
  (void)p;
}
