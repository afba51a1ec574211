// The pipeline programs the local backend tests run, one binary: TRELLIS_TEST_JOB picks which
// (the launch mode, restart count and target are part of a pipeline's type).
#include <cstdlib>
#include <iostream>
#include <string>
#include <torch/torch.h>
#include <trellis/backends/local.hpp>
#include <trellis/trellis.hpp>

using namespace trellis;

namespace {
using fashion = dataset<idx, classes<10>, input_shape<1, 28, 28>>;
using folder = dataset<image_folder, classes<3>, input_shape<1, 28, 28>>;
using cnn = train<models::small_cnn, epochs<1>, adam, experiment<"local-test">>;
using cnn2 = train<models::small_cnn, epochs<2>, adam, experiment<"local-test">>;
// Transfer learning through the registry: a base, a transfer from it, and a model that cannot.
using base = train<models::resnet18, epochs<1>, adam, experiment<"local-test">>;
using transfer = train<models::resnet18, epochs<1>, adam, transfer_from<"tl-base">,
                       experiment<"local-test">>;
using misfit = train<models::small_cnn, epochs<1>, adam, transfer_from<"tl-base">,
                     experiment<"local-test">>;

/// A user module that claims to export but uses a layer the ONNX exporter does not lower.
struct gated_cnn : torch::nn::Module {
  static constexpr text_view name = "gated_cnn";
  static constexpr bool onnx_exportable = true;
  gated_cnn(std::int64_t channels, std::int64_t classes)
      : conv{register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, 8, 3)))},
        fc{register_module("fc", torch::nn::Linear(8, classes))} {}
  torch::Tensor forward(torch::Tensor x) {
    x = torch::sigmoid(conv(x));
    return fc(torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1));
  }
  torch::nn::Conv2d conv;
  torch::nn::Linear fc;
};

template <class Data, class Dist, class Train, class Target = local::cpu, class... After>
int job(int argc, char** argv, const char* root) {
  // IDX files hold their validation split out of the training data; image folders have val/.
  const double val_split = std::is_same_v<typename Data::source, idx> ? 1000 : 0;
  auto through_train = Data{.root = root, .subset = 2048, .val_split = val_split} |
                       compute<Target>{} | Dist{} |
                       Train{.lr = 2e-3, .batch = 64, .schedule = "constant"};
  return trellis::main((through_train | ... | After{}), argc, argv);
}
}  // namespace

int main(int argc, char** argv) {
  const std::string which = std::getenv("TRELLIS_TEST_JOB") ? std::getenv("TRELLIS_TEST_JOB") : "";
  // Machines without Debian's dataset-fashion-mnist (a GPU machine) point this at a copy.
  const char* fashion_root = std::getenv("TRELLIS_TEST_FASHION")
                                 ? std::getenv("TRELLIS_TEST_FASHION")
                                 : "/usr/share/datasets/fashion-mnist";
  if (which == "per_process")
    return job<fashion, distributed<PyTorch, nodes<2>, procs<2>>, cnn, local::cpu,
               register_model<"local-test">, export_onnx<opset<17>>>(argc, argv, fashion_root);
  if (which == "per_node")
    return job<fashion, distributed<PyTorch, nodes<2>, procs<2>, per_node>, cnn>(argc, argv,
                                                                                 fashion_root);
  if (which == "mpi")
    return job<fashion, distributed<Horovod, nodes<1>, procs<2>>, cnn>(argc, argv, fashion_root);
  if (which == "restart")
    return job<fashion, distributed<PyTorch, nodes<1>, procs<2>, max_restarts<1>>, cnn2>(
        argc, argv, fashion_root);
  if (which == "two_epochs")
    return job<fashion, distributed<PyTorch, nodes<1>, procs<2>>, cnn2>(argc, argv, fashion_root);
  if (which == "cuda")
    return job<fashion, distributed<PyTorch, nodes<1>, procs<1>>, cnn, local::cuda<gpus<1>>>(
        argc, argv, fashion_root);
  const char* folder_root =
      std::getenv("TRELLIS_TEST_FOLDER") ? std::getenv("TRELLIS_TEST_FOLDER") : "missing";
  if (which == "folder")
    return job<folder, distributed<PyTorch, nodes<1>, procs<2>>, cnn>(argc, argv, folder_root);
  if (which == "folder2")
    return job<folder, distributed<PyTorch, nodes<1>, procs<2>>, cnn2>(argc, argv, folder_root);
  if (which == "folder_per_node")
    return job<folder, distributed<PyTorch, nodes<2>, procs<1>, per_node>, cnn>(argc, argv,
                                                                              folder_root);
  if (which == "folder_mpi")
    return job<folder, distributed<Horovod, nodes<1>, procs<2>>, cnn>(argc, argv, folder_root);
  using two_nodes = distributed<PyTorch, nodes<2>, procs<1>>;
  if (which == "tl_base")
    return job<folder, two_nodes, base, local::cpu, register_model<"tl-base">>(argc, argv,
                                                                             folder_root);
  if (which == "tl_transfer")
    return job<folder, two_nodes, transfer, local::cpu, register_model<"tl-transfer">>(
        argc, argv, folder_root);
  if (which == "tl_misfit") return job<folder, two_nodes, misfit>(argc, argv, folder_root);
  if (which == "gated")
    return job<fashion, distributed<PyTorch, nodes<1>, procs<2>>,
               train<models::user<gated_cnn>, epochs<1>, adam, experiment<"local-test">>,
               local::cpu, export_onnx<opset<17>>>(argc, argv, fashion_root);
  std::cerr
      << "local_job: set TRELLIS_TEST_JOB to per_process, per_node, mpi, restart, "
         "two_epochs, cuda, folder, folder2, folder_per_node, folder_mpi, tl_base, tl_transfer, "
         "tl_misfit or gated\n";
  return 2;
}
