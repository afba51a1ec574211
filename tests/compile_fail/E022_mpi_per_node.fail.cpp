// expect-error: \[trellis E022\] distributed: mpirun starts every rank itself, so mpi cannot use per_node launchers\.
// One mistake: per_node launchers with the mpi (Horovod) framework.
#include <trellis/trellis.hpp>
using namespace trellis;

int main() {
  auto p = dataset<image_folder, classes<5>, input_shape<3, 64, 64>>{.root = "data/fowl"}
         | environment<curated::pytorch_cuda>{}
         | compute<azure::nc48ads_a100_v4, max_nodes<4>, cluster<"gpu-cluster">>{}
         | distributed<Horovod, nodes<2>, procs<2>, per_node>{}
         | train<models::resnet18, epochs<30>>{.lr = 1e-3, .batch = 64};
  (void)p;
}
