#!/usr/bin/env bash
# DDP speed, side by side: the trellis DDP core (C++) and Python DDP, both started by torchrun
# with the same model, batch and synthetic data; the trellis core without gradient sync (no_sync,
# alternate windows of the same processes) to show what sync costs; and, for ranks on one host,
# trellis through Gloo instead of shared memory. Prints per-rank images/s and ratios.
#   default: the CPU, Gloo, 1 thread per rank, world sizes 1 and 2.
#   --cuda:  one GPU, NCCL, world size 1 (NCCL puts one rank on each GPU).
# Each speed is the best of 3 runs (each the best of 7 timing windows), the variants
# interleaved so machine noise hits all alike. The sync cost is given twice: from those best
# speeds, and as the median over the runs of each run's median over its adjacent (synced,
# no-sync) window pairs, which a burst of load during one window does not move.
# usage: ddp_benchmark.sh [--cuda] PATH/TO/ddp_bench     (PYTHON: the interpreter with torch)
set -euo pipefail
device=cpu
if [[ ${1:-} == --cuda ]]; then device=cuda; shift; fi
bench=$1
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-/usr/bin/python3}  # Debian's python3-torch: the same LibTorch 1.13 build
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

torchrun() {  # world, program...; prints rank 0's JSON line, or the run's log and fails
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
  grep -o '{"images_per_s".*}' "$log" | head -1
}
field() { sed -n "s/.*\"$1\": \([0-9.e+-]*\).*/\1/p" <<<"$2"; }  # key, JSON line
best() { printf '%s\n' "$@" | sort -g | tail -1; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
ratio() { awk "BEGIN{printf \"%.2fx\", $1 / $2}"; }

if [[ $device == cuda ]]; then
  rows=("small_cnn 28 64 1500" "resnet18 224 64 250") worlds=(1)
else
  rows=("small_cnn 28 64 300" "resnet18 64 32 30") worlds=(1 2)
fi
printf '%-10s %5s %5s %5s %5s | %10s %10s %10s %10s | %7s %7s %9s %7s\n' model side batch world device \
  "trellis/s" "python/s" "no-sync/s" "gloo/s" "vs py" "vs gloo" "sync cost" "paired"
for row in "${rows[@]}"; do
  read -r model side batch steps <<<"$row"
  for world in "${worlds[@]}"; do
    # Ranks on one host reduce through shared memory; the gloo column turns that off.
    with_gloo=$([[ $device == cpu && $world -gt 1 ]] && echo 1 || echo 0)
    core=() nosync=() paired=() py=() gloo=()
    for _ in 1 2 3; do
      line=$(torchrun "$world" --no_python "$bench" "$model" "$side" "$batch" "$steps" "$device")
      core+=("$(field images_per_s "$line")") nosync+=("$(field no_sync_images_per_s "$line")")
      paired+=("$(field paired_sync_cost "$line")")
      py+=("$(field images_per_s "$(torchrun "$world" "$here/python_ddp_bench.py" "$model" "$side" "$batch" "$steps" \
        sync "$device")")")
      if ((with_gloo)); then
        gloo+=("$(field images_per_s "$(TRELLIS_HOST_ALLREDUCE=0 torchrun "$world" --no_python "$bench" "$model" \
          "$side" "$batch" "$steps" "$device")")")
      fi
    done
    c=$(best "${core[@]}") p=$(best "${py[@]}") n=$(best "${nosync[@]}")
    g=$( ((with_gloo)) && awk "BEGIN{printf \"%.1f\", $(best "${gloo[@]}")}" || echo -)
    printf '%-10s %5s %5s %5s %5s | %10.1f %10.1f %10.1f %10s | %7s %7s %8.1f%% %6.1f%%\n' "$model" "$side" \
      "$batch" "$world" "$device" "$c" "$p" "$n" "$g" "$(ratio "$c" "$p")" \
      "$( ((with_gloo)) && ratio "$c" "$g" || echo -)" "$(awk "BEGIN{print 100 * ($n / $c - 1)}")" \
      "$(awk "BEGIN{print 100 * $(median "${paired[@]}")}")"
  done
done
echo "no-sync: the same trellis processes in alternate windows without gradient sync; gloo: trellis with"
echo "TRELLIS_HOST_ALLREDUCE=0; sync cost: extra time per synced step over a no-sync step (target <= 5% on resnet18),"
echo "from the best speeds; paired: the median over adjacent synced/no-sync window pairs"
