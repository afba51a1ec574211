#!/usr/bin/env bash
# The main job: set up, build, and run the example pipeline (Fashion-MNIST, 2 ranks) locally.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh"
bash "$root/scripts/configure.sh"
cd "$root"
exec ./build/examples/fashion_mnist "$@"
