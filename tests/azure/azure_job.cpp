// A pipeline program for the Azure tests that need no job to run: --dry-run writes its request
// bodies (a custom environment with a conda file, a local dataset in the code snapshot, a model
// to register), and refused credentials stop it before anything is created. 2 nodes x 1 process
// on an Azure CPU size (Gloo), a small CNN for one epoch on tests/azure/data/tiny-shapes.
#include <trellis/backends/azure.hpp>
#include <trellis/trellis.hpp>

using namespace trellis;

int main(int argc, char** argv) {
  auto p =
      dataset<image_folder, classes<3>, input_shape<1, 28, 28>>{.root = TRELLIS_TINY_SHAPES} |
      environment<custom<"trellis-test-cpu">>{.pip = {"onnx"}} |
      compute<azure::ds3_v2, max_nodes<2>, cluster<"cpu-cluster">>{.idle_seconds_before_scaledown =
                                                                       600} |
      distributed<PyTorch, nodes<2>, procs<1>>{.timeout_s = 60} |
      train<models::small_cnn, epochs<1>, adam, experiment<"azure-e2e">>{.lr = 3e-3, .batch = 8} |
      register_model<"tiny-shapes-cnn">{.description = "small CNN on tiny-shapes",
                                        .tags = {{"data", "tiny-shapes"}}};
  return trellis::main(p, argc, argv);
}
