#!/usr/bin/env bash
# DDP speed, side by side: the trellis DDP core (C++) and Python DDP, both started by torchrun
# with Gloo, 1 thread per rank, the same model, batch and synthetic data; and the trellis core
# without gradient sync (no_sync) to show what sync costs. Prints per-rank images/s and ratios.
# Each figure is the best of 3 runs (each the best of 5 timing windows), the variants
# interleaved so machine noise hits all alike.
# usage: ddp_benchmark.sh PATH/TO/ddp_bench
set -euo pipefail
bench=$1
here=$(cd "$(dirname "$0")" && pwd)
python=/usr/bin/python3  # Debian's python3-torch: the same LibTorch 1.13 build

torchrun() {  # world, program...; prints rank 0's images/s
  local world=$1
  shift
  # Debian's torchrun needs non-zero redirects on Python 3.11 (a flag-enum change).
  "$python" -m torch.distributed.run --nnodes=1 --nproc_per_node="$world" --master_addr=127.0.0.1 \
    --master_port=$((20000 + RANDOM % 20000)) --redirects 2 --tee 1 "$@" 2>/dev/null |
    sed -n 's/.*{"images_per_s": \([0-9.e+-]*\)}.*/\1/p' | head -1
}

best() { printf '%s\n' "$@" | sort -g | tail -1; }

printf '%-10s %5s %5s %6s | %12s %12s %12s | %8s %9s\n' model side batch world \
  "trellis/s" "python/s" "no-sync/s" "vs py" "sync cost"
for row in "small_cnn 28 64 300" "resnet18 64 32 30"; do
  read -r model side batch steps <<<"$row"
  for world in 1 2; do
    core=() py=() nosync=()
    for _ in 1 2 3; do
      core+=("$(torchrun "$world" --no_python "$bench" "$model" "$side" "$batch" "$steps" sync)")
      py+=("$(torchrun "$world" "$here/python_ddp_bench.py" "$model" "$side" "$batch" "$steps" sync)")
      nosync+=("$(torchrun "$world" --no_python "$bench" "$model" "$side" "$batch" "$steps" nosync)")
    done
    c=$(best "${core[@]}") p=$(best "${py[@]}") n=$(best "${nosync[@]}")
    printf '%-10s %5s %5s %6s | %12.1f %12.1f %12.1f | %7.2fx %8.1f%%\n' "$model" "$side" "$batch" "$world" \
      "$c" "$p" "$n" "$(echo "$c / $p" | bc -l)" "$(echo "100 * ($n / $c - 1)" | bc -l)"
  done
done
echo "sync cost: extra time per step with gradient sync, relative to the no-sync step (target <= 5% on resnet18)"
