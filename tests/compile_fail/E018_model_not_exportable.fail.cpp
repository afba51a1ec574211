// expect-error: \[trellis E018\] export_onnx: the model type declares onnx_exportable = false\. Fix: remove export_onnx
// One mistake: export_onnx of a user model that says it cannot be exported.
#include <trellis/trellis.hpp>
using namespace trellis;

struct deformable_detector {  // uses a custom operator ONNX has no equivalent for
  static constexpr text_view name = "deformable_detector";
  static constexpr bool onnx_exportable = false;
};

int main() {
  auto p = dataset<image_folder, classes<5>, input_shape<3, 64, 64>>{.root = "data/fowl"}
         | compute<local::cpu>{}
         | train<models::user<deformable_detector>, epochs<10>>{.lr = 1e-3}
         | register_model<"birds-detector">{}
         | export_onnx<opset<17>>{};
  (void)p;
}
