// The control of the transfer-learning scenario: examples/transfer_learning.cpp's training, on
// the same data with the same settings, from a freshly initialised ResNet-18 instead of the
// registered "fashion-base". What transfer learning buys is the difference between the two.
#include <trellis/backends/local.hpp>
#include <trellis/trellis.hpp>

#include "fashion_target.hpp"
using namespace trellis;

int main(int argc, char** argv) {
  auto p = fashion_target()  // examples/fashion_target.hpp: 5 classes, 120 + 100 images each
         | environment<curated::pytorch_cuda>{}
         | compute<azure::nc24ads_a100_v4, max_nodes<4>, cluster<"gpu-cluster">>{}
         | distributed<PyTorch, nodes<2>, procs<1>>{}
         | train<models::resnet18, epochs<10>, sgd, global_batch<64>, experiment<"scratch">>{
               .lr = 0.01, .weight_decay = 5e-4}
         | register_model<"fashion-scratch">{.tags = {{"task", "from scratch"}}};
  return trellis::main(p, argc, argv);
}
