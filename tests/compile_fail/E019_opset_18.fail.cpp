// expect-error: \[trellis E019\] export_onnx: the opset is outside 7\.\.17, the range of ONNX 1\.12 \(IR 8\)\. Fix: use opset<17>
// One mistake: opset 18, newer than ONNX 1.12 knows.
#include <trellis/trellis.hpp>
using namespace trellis;

int main() {
  auto p = dataset<idx, classes<10>, input_shape<1, 28, 28>>{
               .root = "/usr/share/datasets/fashion-mnist"}
         | compute<local::cpu>{}
         | train<models::small_cnn, epochs<5>>{.lr = 0.01, .batch = 64}
         | register_model<"fashion-cnn">{}
         | export_onnx<opset<18>>{};
  (void)p;
}
