#!/usr/bin/env bash
# Set up, build, and run every test (CTest). .ci/run runs exactly this.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh"
bash "$root/scripts/configure.sh"
cd "$root/build"
ctest -j "$(nproc)" --output-on-failure "$@"
