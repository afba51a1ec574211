// The pipeline the --set and command-line fuzz targets change: all seven stages, so every
// kind of run-time field (text, flag, whole number, number, three numbers, list, tags) is there.
#pragma once
#include <trellis/trellis.hpp>

namespace trellis::fuzz {

inline auto sample_pipeline() {
  return dataset<image_folder, classes<5>, input_shape<3, 64, 64>>{.root = "data/fashion-folder"}
       | environment<curated::pytorch_cuda>{}
       | compute<azure::nc24ads_a100_v4, max_nodes<4>, cluster<"gpu-cluster">>{}
       | distributed<PyTorch, nodes<2>, procs<1>>{}
       | train<models::resnet18, epochs<30>, sgd, transfer_from<"fashion-base">>{.lr = 1e-3}
       | register_model<"pytorch-birds">{.tags = {{"task", "transfer"}}}
       | export_onnx<opset<17>>{};
}

}  // namespace trellis::fuzz
