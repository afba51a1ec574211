// Pre-training for the transfer-learning scenario: a ResNet-18 learns 5 Fashion-MNIST classes
// (T-shirt, trouser, pullover, dress, coat) from their training images (10% held out to choose
// the best epoch), with 2 nodes x 1 process (DDP over Gloo on this machine's CPUs), and is
// registered as "fashion-base", the model examples/transfer_learning.cpp starts from.
// build/bin/prepare_fashion writes its data folder.
#include <trellis/backends/local.hpp>
#include <trellis/trellis.hpp>
using namespace trellis;

int main(int argc, char** argv) {
  auto p = dataset<image_folder, classes<5>, input_shape<1, 28, 28>>{
               .root = "data/fashion-pretrain",
               .transform = {.hflip = true,
                             .normalize = true,
                             .mean = {0.286, 0, 0},
                             .std = {0.353, 1, 1}},
               .val_split = 0.1}
         | compute<local::cpu>{}
         | distributed<PyTorch, nodes<2>, procs<1>>{}
         | train<models::resnet18, epochs<5>, sgd, global_batch<128>, experiment<"pretrain">>{
               .lr = 0.05, .weight_decay = 5e-4}
         | register_model<"fashion-base">{
               .description = "ResNet-18 pre-trained on 5 Fashion-MNIST classes"};
  return trellis::main(p, argc, argv);
}
