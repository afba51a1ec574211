#!/usr/bin/env bash
# DDP speed, side by side: the trellis DDP core (C++) and Python DDP, both started by torchrun
# with the same model, batch and synthetic data; and the trellis core without gradient sync
# (no_sync) to show what sync costs. Prints per-rank images/s and ratios.
#   default: the CPU, Gloo, 1 thread per rank, world sizes 1 and 2.
#   --cuda:  one GPU, NCCL, world size 1 (NCCL puts one rank on each GPU).
# Each figure is the best of 3 runs (each the best of 5 timing windows), the variants
# interleaved so machine noise hits all alike.
# usage: ddp_benchmark.sh [--cuda] PATH/TO/ddp_bench     (PYTHON: the interpreter with torch)
set -euo pipefail
device=cpu
if [[ ${1:-} == --cuda ]]; then device=cuda; shift; fi
bench=$1
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-/usr/bin/python3}  # Debian's python3-torch: the same LibTorch 1.13 build
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

torchrun() {  # world, program...; prints rank 0's images/s, or the run's log and fails
  local world=$1 log="$logs/run.log"
  shift
  # Debian's torchrun needs non-zero redirects on Python 3.11 (a flag-enum change).
  if ! "$python" -m torch.distributed.run --nnodes=1 --nproc_per_node="$world" --master_addr=127.0.0.1 \
    --master_port=$((20000 + RANDOM % 20000)) --redirects 2 --tee 1 "$@" >"$log" 2>&1 ||
    ! grep -q '{"images_per_s"' "$log"; then
    echo "ddp_benchmark: this run failed: $*" >&2
    tail -n 30 "$log" >&2
    return 1
  fi
  sed -n 's/.*{"images_per_s": \([0-9.e+-]*\)}.*/\1/p' "$log" | head -1
}

best() { printf '%s\n' "$@" | sort -g | tail -1; }

if [[ $device == cuda ]]; then
  rows=("small_cnn 28 64 1500" "resnet18 224 64 250") worlds=(1)
else
  rows=("small_cnn 28 64 300" "resnet18 64 32 30") worlds=(1 2)
fi
printf '%-10s %5s %5s %6s %5s | %12s %12s %12s | %8s %9s\n' model side batch world device \
  "trellis/s" "python/s" "no-sync/s" "vs py" "sync cost"
for row in "${rows[@]}"; do
  read -r model side batch steps <<<"$row"
  for world in "${worlds[@]}"; do
    core=() py=() nosync=()
    for _ in 1 2 3; do
      core+=("$(torchrun "$world" --no_python "$bench" "$model" "$side" "$batch" "$steps" sync "$device")")
      py+=("$(torchrun "$world" "$here/python_ddp_bench.py" "$model" "$side" "$batch" "$steps" sync "$device")")
      nosync+=("$(torchrun "$world" --no_python "$bench" "$model" "$side" "$batch" "$steps" nosync "$device")")
    done
    c=$(best "${core[@]}") p=$(best "${py[@]}") n=$(best "${nosync[@]}")
    printf '%-10s %5s %5s %6s %5s | %12.1f %12.1f %12.1f | %7.2fx %8.1f%%\n' "$model" "$side" "$batch" "$world" \
      "$device" "$c" "$p" "$n" "$(awk "BEGIN{print $c / $p}")" "$(awk "BEGIN{print 100 * ($n / $c - 1)}")"
  done
done
echo "sync cost: extra time per step with gradient sync, relative to the no-sync step (target <= 5% on resnet18)"
