// The small CNN on Fashion-MNIST's 10 classes with 2 ranks (DDP over Gloo on this machine's
// CPUs), registered as "fashion-cnn" and exported to ONNX.
#include <trellis/backends/local.hpp>
#include <trellis/trellis.hpp>
using namespace trellis;

int main(int argc, char** argv) {
  auto p = dataset<idx, classes<10>, input_shape<1, 28, 28>>{
               .root = "/usr/share/datasets/fashion-mnist", .val_split = 5000}
         | compute<local::cpu>{}
         | distributed<PyTorch, nodes<1>, procs<2>>{}
         | train<models::small_cnn, epochs<12>, adam, global_batch<128>, experiment<"fashion">>{
               .lr = 1e-3, .schedule = "cosine"}
         | register_model<"fashion-cnn">{.description = "small CNN on Fashion-MNIST"}
         | export_onnx<opset<17>>{};
  return trellis::main(p, argc, argv);
}
