// The seed scenario: fine-tune a ResNet-18 on an image folder, starting from the
// "fashion-base" model this workspace registered, on 2 Azure A100 nodes — or rehearsed here
// with --backend=local — then register the result and export it to ONNX.
#include <trellis/backends/local.hpp>
#include <trellis/trellis.hpp>
using namespace trellis;

int main(int argc, char** argv) {
  auto p = dataset<image_folder, classes<5>, input_shape<3, 64, 64>>{
               .root = "data/fashion-folder",
               .transform = {.resize = 72, .crop = 64, .random_crop = true, .hflip = true,
                             .gray_to_rgb = true, .normalize = true}}
         | environment<curated::pytorch_cuda>{}
         | compute<azure::nc24ads_a100_v4, max_nodes<4>, cluster<"gpu-cluster">>{}
         | distributed<PyTorch, nodes<2>, procs<1>>{}
         | train<models::resnet18, epochs<30>, sgd, transfer_from<"fashion-base">, experiment<"birds">>{
               .lr = 1e-3, .batch = 64, .freeze_backbone = true}
         | register_model<"pytorch-birds">{.tags = {{"task", "transfer"}}}
         | export_onnx<opset<17>>{};
  return trellis::main(p, argc, argv);
}
