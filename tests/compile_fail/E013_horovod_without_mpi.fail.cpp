// expect-error: \[trellis E013\] environment: distributed<mpi> needs an MPI runtime, which this environment lacks\. Fix: add with_mpi
// One mistake: a Horovod (mpi) job in a custom environment that does not declare with_mpi.
#include <trellis/trellis.hpp>
using namespace trellis;

int main() {
  auto p = dataset<image_folder, classes<5>, input_shape<3, 64, 64>>{.root = "data/fowl"}
         | environment<custom<"birds-horovod">, base_image<"nvcr.io/nvidia/pytorch:24.01-py3">,
                       cuda<12, 1>, torch_version<2, 2>>{.pip = {"horovod"}}
         | compute<azure::nc24ads_a100_v4, max_nodes<4>, cluster<"gpu-cluster">>{}
         | distributed<Horovod, nodes<2>, procs<1>>{}
         | train<models::resnet18, epochs<30>>{.lr = 1e-3, .batch = 64};
  (void)p;
}
