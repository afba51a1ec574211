// A pipeline program built against trellis::trellis alone: it checks its pipelines when it
// compiles and plans them with --dry-run; no backend header, so no LibTorch.
#include <trellis/main.hpp>
#include <trellis/trellis.hpp>

using namespace trellis;

using distributed_without_compute =
    decltype(dataset<idx, classes<10>>{} | distributed<PyTorch, nodes<2>>{});
static_assert(
    is_rule_v<check_t<distributed_without_compute>, rules::E007_distributed_requires_compute>);

int main(int argc, char** argv) {
  auto p = dataset<idx, classes<10>, input_shape<1, 28, 28>>{.root = DATASET_ROOT, .val_split = 0.1}
         | compute<local::cpu>{}
         | distributed<PyTorch, nodes<1>, procs<2>>{}
         | train<models::small_cnn, epochs<1>>{.lr = 0.01};
  return trellis::main(p, argc, argv);
}
