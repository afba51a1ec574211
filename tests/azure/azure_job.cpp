// The pipeline program the Azure tests submit to their emulator, built here as the driver and
// rebuilt by the emulated job from its code snapshot: 2 nodes x 1 process on an Azure CPU size
// (Gloo), a small CNN for one epoch on tests/azure/data/tiny-shapes, registered as a model.
#include <cstdlib>
#include <iostream>
#include <string>
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
  const int status = trellis::main(p, argc, argv);
  // Until the trainer's metric sink logs each value as it is made, rank 0 of an Azure ML job
  // sends the run's metrics through MLflow once training is done.
  const char* rank = std::getenv("RANK");
  if (status == 0 && rank && std::string{rank} == "0")
    if (auto mlflow = backends::azure::mlflow_client::from_environment()) {
      const auto sent = backends::azure::log_metrics_file(*mlflow, "metrics.jsonl");
      std::cout << "[trellis] rank 0: " << sent << " metric values logged to MLflow run "
                << mlflow->run_id() << "\n";
    }
  return status;
}
