// The scenario of Azure ML's "train PyTorch models at scale": fine-tune the ResNet-18 that
// examples/pretrain.cpp registered ("fashion-base") on a small image folder of 5 other classes
// (120 training and 100 validation images each), on 2 Azure A100 nodes -- or rehearsed on this
// machine with --backend=local -- then register the result and export it to ONNX.
// examples/from_scratch.cpp trains the same network on the same data without the base.
#include <trellis/backends/azure.hpp>
#include <trellis/trellis.hpp>

#include "fashion_target.hpp"
using namespace trellis;

int main(int argc, char** argv) {
  auto p = fashion_target()  // examples/fashion_target.hpp: 5 classes, 120 + 100 images each
         | environment<curated::pytorch_cuda>{}
         | compute<azure::nc24ads_a100_v4, max_nodes<4>, cluster<"gpu-cluster">>{}
         | distributed<PyTorch, nodes<2>, procs<1>>{}
         | train<models::resnet18, epochs<10>, sgd, global_batch<64>, transfer_from<"fashion-base">,
                 experiment<"transfer">>{.lr = 0.01, .weight_decay = 5e-4}
         | register_model<"fashion-transfer">{.tags = {{"task", "transfer"}}}
         | export_onnx<opset<17>>{};
  return trellis::main(p, argc, argv);
}
