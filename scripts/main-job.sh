#!/usr/bin/env bash
# The main job, Azure ML's "train PyTorch models at scale" scenario run on this machine: set up,
# build, prepare the data from Debian's Fashion-MNIST, pre-train a ResNet-18 on 5 classes
# (registered as fashion-base), fine-tune it on 120 images of each of 5 other classes
# (fashion-transfer, exported to ONNX) and train the same network from scratch as the control,
# each with 2 nodes x 1 process over Gloo; then compare the two. Arguments go to every pipeline
# program (--dry-run only plans and checks them).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh"
bash "$root/scripts/configure.sh" --target trellis_cli --target prepare_fashion \
  --target pretrain --target transfer_learning --target from_scratch
cd "$root"
trellis=build/bin/trellis
./build/bin/prepare_fashion
./build/examples/pretrain "$@"
./build/examples/transfer_learning --backend=local "$@"
./build/examples/from_scratch --backend=local "$@"
for arg in "$@"; do [ "$arg" = --dry-run ] && exit 0; done
echo
echo "== transfer learning against the same training from scratch (latest runs)"
$trellis runs compare transfer scratch --label=transfer --label="from scratch"
echo
echo "== the registry"
$trellis models list
