#!/usr/bin/env bash
# What transfer learning buys in the main job's scenario, over several seeds: for each seed,
# examples/transfer_learning (fine-tuning fashion-base, whole network), the same with the backbone
# frozen (the head alone), and examples/from_scratch, on the same data; then, for each recipe, the
# mean and spread of its best validation accuracy, of the epoch at which it first reached the
# from-scratch run's best, and of its test accuracy. Needs fashion-base registered in WORKSPACE
# (the main job's pretrain does it) and data/fashion-target (build/bin/prepare_fashion).
# usage: benchmarks/transfer/transfer_vs_scratch.sh [WORKSPACE] [SEEDS...]   (from the repo root)
# BENCH_ARGS adds arguments to every run, e.g. BENCH_ARGS=--set=distributed.master_port=29611.
set -euo pipefail
workspace=${1:-trellis-workspace}
shift || true
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(1 2 3)
build=${BUILD:-build}
read -r -a extra <<<"${BENCH_ARGS:-}"
trellis="$build/bin/trellis --workspace=$workspace"
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run() {  # label, program, settings...: runs it, prints the run id
  local label=$1 program=$2
  shift 2
  if ! "$build/examples/$program" --backend=local --workspace="$workspace" --tag=benchmark="$label" "${extra[@]}" "$@" >"$log" 2>&1; then
    echo "transfer_vs_scratch: $label failed:" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
  sed -n 's/^\[trellis\] run \([^ ]*\) completed.*/\1/p' "$log"
}

results=()
for seed in "${seeds[@]}"; do
  transfer=$(run "transfer seed $seed" transfer_learning --set=train.seed="$seed")
  frozen=$(run "frozen seed $seed" transfer_learning --set=train.seed="$seed" --set=train.freeze_backbone=true)
  scratch=$(run "scratch seed $seed" from_scratch --set=train.seed="$seed")
  echo "seed $seed: transfer $transfer, head only $frozen, from scratch $scratch" >&2
  results+=("$($trellis runs compare "$scratch" "$transfer" "$frozen" --json)")
done

printf '%s\n' "${results[@]}" > "$log"
/usr/bin/python3 - "$log" <<'PY'
import json, statistics, sys
text = open(sys.argv[1]).read()
decoder, at, runs = json.JSONDecoder(), 0, []
while at < len(text):
    while at < len(text) and text[at].isspace():
        at += 1
    if at == len(text):
        break
    value, at = decoder.raw_decode(text, at)
    runs.append(value)
labels = ["from scratch", "transfer (whole network)", "transfer (head only)"]
table = {l: {"best": [], "reached": [], "test": []} for l in labels}
for seed_result in runs:
    scratch_best = max(p["value"] for p in seed_result["runs"][0]["val_accuracy"])
    for label, r in zip(labels, seed_result["runs"]):
        curve = r["val_accuracy"]
        table[label]["best"].append(max(p["value"] for p in curve))
        reached = next((p["epoch"] for p in curve if p["value"] >= scratch_best), None)
        table[label]["reached"].append(reached)
        table[label]["test"].append(r["test_accuracy"])
def stat(values):
    values = [v for v in values if v is not None]
    if not values:
        return "never"
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.4f} +- {spread:.4f}"
print(f"{len(runs)} seeds; mean +- standard deviation")
print(f"{'recipe':<26} {'best val_accuracy':>20} {'epoch reaching scratch best':>28} {'test_accuracy':>20}")
for label in labels:
    t = table[label]
    reached = [r for r in t["reached"] if r is not None]
    reached_text = (f"{statistics.mean(reached):.1f} ({len(reached)}/{len(t['reached'])} runs)"
                    if reached else "never")
    print(f"{label:<26} {stat(t['best']):>20} {reached_text:>28} {stat(t['test']):>20}")
PY
