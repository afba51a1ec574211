#!/usr/bin/env bash
# trellis's job side on Azure ML: run as the command of a command job, in the working folder that
# holds the code snapshot. It builds the pipeline program with CMake against the environment's
# LibTorch (once per node, or once for all when TRELLIS_BUILD_CACHE is shared), then runs it in
# worker mode with Azure's variables; rank 0 then copies outputs/ into the model output, and its
# metrics.jsonl into outputs/, which Azure uploads as the run's artifacts and the driver downloads.
#
#   bash backends/azure/job.sh --target NAME [--model-output DIR] [--per-node P] [--data DIR]
#                              [--transfer-from PATH] -- [ARGS]
#
#   --target        the CMake target of the pipeline program
#   --model-output  the job's model output (${{outputs.model}}); rank 0 copies outputs/ into it
#   --per-node P    Azure starts one process per node; the program's node launcher starts P ranks
#   --data DIR      the dataset folder in the snapshot, which the program reads but the build does not
#   --transfer-from the transfer_from model input (${{inputs.transfer_from}}): model.pt or its
#                   folder; the ranks load it after checking it against TRELLIS_TRANSFER_SHA256
#   TRELLIS_JOB_CMAKE_ARGS  -D options of the build (the driver passes those of its own build)
#   TRELLIS_BUILD_CACHE     a folder the job's processes (and later jobs) share to build in; the
#                           build is keyed by the sources, the options, the compiler and LibTorch
set -euo pipefail

target="" model_output="" per_node="" data="" transfer=""
while [ $# -gt 0 ]; do
  case "$1" in
    --target) target=$2; shift 2 ;;
    --model-output) model_output=$2; shift 2 ;;
    --per-node) per_node=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --transfer-from) transfer=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "job.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
[ -n "$target" ] || { echo "job.sh: --target is required" >&2; exit 2; }
say() { echo "[trellis] job: $*"; }
src=$PWD
rank=${RANK:-${OMPI_COMM_WORLD_RANK:-0}}

# LibTorch: pip torch ships its headers, libraries and CMake config, which
# torch.utils.cmake_prefix_path names. Debian's python3-torch names a folder it does not ship;
# then CMake finds the system's LibTorch (libtorch-dev) by itself.
torch_prefix=""
for python in python3 python; do
  command -v "$python" >/dev/null || continue
  prefix=$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null) || continue
  if [ -f "$prefix/Torch/TorchConfig.cmake" ]; then
    torch_prefix=$prefix
    say "LibTorch of $("$python" -c 'import torch; print("torch", torch.__version__)') in $prefix"
  else
    say "torch names $prefix, which has no Torch/TorchConfig.cmake: using the system's LibTorch"
  fi
  break
done

# The build's key: every file of the snapshot but the dataset and what runs write here, the
# options, the compiler and LibTorch; new data alone does not rebuild.
key=$( {
  find . -type f \
    -not -path './outputs/*' -not -path './logs/*' -not -path './user_logs/*' -not -path './system_logs/*' \
    -not -path './checkpoints/*' -not -path './.trellis-build/*' -not -path './mlruns/*' \
    ${data:+-not -path "./${data%/}/*"} -not -name metrics.jsonl -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
  echo "$target ${TRELLIS_JOB_CMAKE_ARGS:-} $torch_prefix"
  c++ --version 2>&1 | head -1
} | sha256sum | cut -c1-16 )
cache=${TRELLIS_BUILD_CACHE:-$src/.trellis-build}
mkdir -p "$cache"
program=$cache/$key/$target
exec 9>"$cache/lock"
flock 9  # one build at a time; the other processes wait for it and use it
if [ -x "$program" ]; then
  say "using $target built for these sources ($key)"
else
  build=$cache/$key.build
  rm -rf "$build"
  generator=()
  command -v ninja >/dev/null && generator=(-G Ninja)
  say "building $target ($key)"
  # shellcheck disable=SC2086  # the options are words
  cmake -S "$src" -B "$build" "${generator[@]}" ${TRELLIS_JOB_CMAKE_ARGS:-} \
    ${torch_prefix:+-DCMAKE_PREFIX_PATH="$torch_prefix"} >"$cache/$key.configure.log" 2>&1 ||
    { tail -40 "$cache/$key.configure.log"; exit 1; }
  cmake --build "$build" --target "$target" -j "$(nproc)"
  built=$(find "$build" -type f -name "$target" -perm -u+x | head -1)
  [ -n "$built" ] || { echo "job.sh: the build made no program '$target'" >&2; exit 1; }
  mkdir -p "$cache/$key"
  cp "$built" "$program.tmp" && mv "$program.tmp" "$program"
  rm -rf "$build"
fi
flock -u 9
exec 9>&-

if [ -n "$per_node" ]; then
  # As torch.distributed.launch: this process stands for its node and starts the node's ranks.
  export WORLD_SIZE=$(( ${WORLD_SIZE:-1} * per_node )) LOCAL_WORLD_SIZE=$per_node
  export TRELLIS_NODE_LAUNCHER=1 TRELLIS_RUN_DIR=$src
  unset RANK LOCAL_RANK
fi
if [ -n "${OMPI_COMM_WORLD_RANK:-}" ] && [ -z "${MASTER_ADDR:-}" ]; then
  # Azure's Mpi distribution names the first node; the workers' TCP store lives there.
  master=${AZ_BATCHAI_MPI_MASTER_NODE:-${AZ_BATCH_MASTER_NODE:-}}
  export MASTER_ADDR=${master%%:*}
fi

if [ -n "$transfer" ]; then
  # The worker checks the file against TRELLIS_TRANSFER_SHA256 (a job variable) before using it.
  if [ -d "$transfer" ]; then transfer=$transfer/model.pt; fi
  export TRELLIS_TRANSFER_FILE=$transfer
fi

status=0
"$program" "$@" || status=$?
if [ "$status" -eq 0 ] && [ "$rank" = 0 ] && [ -n "$model_output" ] && [ -d outputs ]; then
  mkdir -p "$model_output"
  cp -r outputs/. "$model_output"/
  say "outputs/ copied to the model output"
fi
if [ "$rank" = 0 ] && [ -f metrics.jsonl ]; then
  # Every value rank 0 logged, with its epoch and rank, for the driver's run record.
  mkdir -p outputs
  cp metrics.jsonl outputs/metrics.jsonl
fi
exit "$status"
