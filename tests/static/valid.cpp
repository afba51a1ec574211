// Valid pipelines built with the real `|`: the program of docs/architecture.md#a-pipeline-program
// and the promised distributed<PyTorch, nodes<2>, procs<4>>. They compile (no rule fires inside
// `|`), and their check result is `satisfied`. This file also holds the static_checks executable's
// main.
#include <trellis/trellis.hpp>

#include <type_traits>

using namespace trellis;

namespace valid_examples {

// docs/architecture.md#a-pipeline-program. The cluster name is a type parameter
// (cluster<"gpu-cluster">) so rule E032 can check it; compute has no run-time `.name` field.
auto architecture_program() {
  return dataset<image_folder, classes<5>, input_shape<3, 64, 64>>{.root = "data/fowl"}
       | environment<curated::pytorch_cuda>{}
       | compute<azure::nc24ads_a100_v4, max_nodes<4>, cluster<"gpu-cluster">>{}
       | distributed<pytorch, nodes<2>, procs<1>>{}
       | train<models::resnet18, epochs<30>, transfer_from<"fashion-base">>{.lr = 1e-3, .batch = 64}
       | register_model<"pytorch-birds">{}
       | export_onnx<opset<17>>{};
}

// Two nodes of 8 H100s each, 4 ranks per node: the spelling Azure ML's how-to uses.
auto promised_distributed() {
  return dataset<image_folder, classes<5>, input_shape<3, 224, 224>>{.root = "data/fowl"} |
         environment<curated::pytorch_cuda>{} |
         compute<azure::nd96isr_h100_v5, max_nodes<2>, cluster<"h100-cluster">>{} |
         distributed<PyTorch, nodes<2>, procs<4>>{.master_port = 29501} |
         train<models::resnet50, epochs<90>, adam, global_batch<256>, checkpoint_every<5>>{
             .lr = 1e-3} |
         register_model<"birds-resnet50">{};
}

// The Fashion-MNIST program on this machine: no environment, Gloo on CPU, Horovod-style launch.
auto fashion_mnist_local() {
  return dataset<idx, classes<10>, input_shape<1, 28, 28>>{
             .root = "/usr/share/datasets/fashion-mnist"} |
         compute<local::cpu>{} | distributed<Horovod, nodes<1>, procs<2>, max_restarts<1>>{} |
         train<models::small_cnn, epochs<5>, experiment<"fashion-mnist">, select_best<"val_loss">>{
             .lr = 0.01} |
         export_onnx<opset<13>, static_batch>{};
}

// `|` returns the longer pipeline with every stage type kept as written.
static_assert(std::is_same_v<
              decltype(architecture_program()),
              pipeline<dataset<image_folder, classes<5>, input_shape<3, 64, 64>>,
                       environment<curated::pytorch_cuda>,
                       compute<azure::nc24ads_a100_v4, max_nodes<4>, cluster<"gpu-cluster">>,
                       distributed<pytorch, nodes<2>, procs<1>>,
                       train<models::resnet18, epochs<30>, transfer_from<"fashion-base">>,
                       register_model<"pytorch-birds">, export_onnx<opset<17>>>>);
static_assert(decltype(architecture_program())::size() == 7);
static_assert(is_valid_v<decltype(architecture_program())>);
static_assert(is_satisfied_v<check_t<decltype(architecture_program())>>);

static_assert(std::is_same_v<PyTorch, pytorch> && std::is_same_v<Horovod, mpi>);
static_assert(is_valid_v<decltype(promised_distributed())>);
static_assert(is_valid_v<decltype(fashion_mnist_local())>);

// A single stage and its two-stage pipeline are checked the same way.
static_assert(is_valid_v<dataset<idx, classes<10>>>);
static_assert(is_valid_v<decltype(dataset<idx, classes<10>>{} | train<models::small_cnn>{})>);

}  // namespace valid_examples

int main() { return 0; }
