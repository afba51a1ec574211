// expect-error: \[trellis E004\] register_model: there is no train stage whose model it could register\. Fix: add train
// One mistake: register_model follows compute directly; train was forgotten.
#include <trellis/trellis.hpp>
using namespace trellis;

int main() {
  auto p = dataset<idx, classes<10>, input_shape<1, 28, 28>>{
               .root = "/usr/share/datasets/fashion-mnist"}
         | compute<local::cpu>{}
         | register_model<"fashion-cnn">{};
  (void)p;
}
