// The smallest pipeline: one process on this machine's CPU, no registration, no export.
#include <trellis/backends/local.hpp>
#include <trellis/trellis.hpp>
using namespace trellis;

int main(int argc, char** argv) {
  auto p = dataset<idx, classes<10>>{.root = "/usr/share/datasets/fashion-mnist", .val_split = 0.1}
         | train<models::small_cnn, epochs<1>>{.lr = 0.01, .batch = 64};
  return trellis::main(p, argc, argv);
}
