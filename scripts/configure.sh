#!/usr/bin/env bash
# Configures and builds trellis into ./build (Release, Ninja): every target, or those named
# after --target (scripts/main-job.sh builds only what the main job runs). Other arguments go
# to cmake.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cmake_args=() targets=()
while [ $# -gt 0 ]; do
  if [ "$1" = --target ]; then targets+=(--target "$2"); shift 2; else cmake_args+=("$1"); shift; fi
done
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=Release "${cmake_args[@]}" >/dev/null
cmake --build "$root/build" -j "$(nproc)" "${targets[@]}"
