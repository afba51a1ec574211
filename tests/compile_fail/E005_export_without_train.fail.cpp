// expect-error: \[trellis E005\] export_onnx: there is no train stage whose model it could export\. Fix: add train
// One mistake: export_onnx follows compute directly; train was forgotten.
#include <trellis/trellis.hpp>
using namespace trellis;

int main() {
  auto p = dataset<idx, classes<10>, input_shape<1, 28, 28>>{
               .root = "/usr/share/datasets/fashion-mnist"}
         | compute<local::cpu>{}
         | export_onnx<opset<17>>{};
  (void)p;
}
