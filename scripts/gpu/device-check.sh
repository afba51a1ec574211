#!/usr/bin/env bash
# On a GPU machine with pip torch (LibTorch + CUDA + NCCL, no Debian packages): builds trellis
# against that LibTorch, runs the local::cuda end-to-end test (one rank, NCCL) and the CUDA DDP
# benchmark, then compiles every other LibTorch target as a check. Logs go to OUT_DIR.
# Needs .gpu-deps from scripts/gpu/bundle-deps.sh next to the sources.
# usage: scripts/gpu/device-check.sh OUT_DIR
#   PYTHON: the interpreter with torch (python3); COMPILE_CHECK_S: limit for the last step (240)
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$1
build=$root/build-gpu
python=${PYTHON:-python3}
export GPU_DEPS=$root/.gpu-deps
export LD_LIBRARY_PATH=$GPU_DEPS/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export TRELLIS_TEST_FASHION=$GPU_DEPS/fashion-mnist
mkdir -p "$out"
status=0
step() { echo "== $* ($(date +%T))"; }

step machine
nvidia-smi -L
"$python" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "nccl", torch.cuda.nccl.version())'
g++ --version | head -1

step configure
rm -rf "$build"
# -Wno-error: a new compiler's new warning must not hide the run's results; the build log keeps it.
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS=-Wno-error \
  -DCMAKE_PREFIX_PATH="$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)');$GPU_DEPS" \
  >"$out/configure.log" 2>&1 || { tail -n 40 "$out/configure.log"; exit 1; }
grep "trellis:" "$out/configure.log"

step build the targets the checks run
ninja -C "$build" ddp_bench local_job local_tests >"$out/build.log" 2>&1 || status=1
grep -E "error|warning:" "$out/build.log" | head -n 40

step "test: local::cuda, one rank, NCCL"
ctest --test-dir "$build" -R '^local\.cuda$' --output-on-failure >"$out/ctest.log" 2>&1 || status=1
tail -n 25 "$out/ctest.log"

step "benchmark: CUDA, NCCL, world size 1"
PYTHON=$python bash "$root/benchmarks/ddp/ddp_benchmark.sh" --cuda "$build/benchmarks/ddp_bench" 2>&1 |
  tee "$out/bench.txt" || status=1

step compile every other target
timeout "${COMPILE_CHECK_S:-240}" ninja -C "$build" -k 0 >"$out/build-all.log" 2>&1 || status=1
grep -E "error|warning:|FAILED" "$out/build-all.log" | head -n 60
tail -n 2 "$out/build-all.log"
step "done, status $status"
exit $status
