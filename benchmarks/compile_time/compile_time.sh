#!/usr/bin/env bash
# Compile-time cost of the front end: the include alone, and N = 1, 50, 200 distinct
# 7-stage pipelines in one translation unit (front end only, no LibTorch), built with `|` and
# checked. Two shapes: "distinct" varies five of the seven stage types per pipeline (every
# pipeline instantiates new dataset, compute, train, register_model and export_onnx types);
# "shared" varies only train's epochs and the model name, as pipelines of one code base tend
# to. A third shape, "bare", compiles the distinct source against bare_syntax.hpp, stand-ins
# that check nothing: the baseline of what the syntax costs by itself. Each figure is the best
# of 3 compiles; the marginal cost is the slope from N=1 to 200.
# With valgrind installed it also counts the compiler's instructions per distinct pipeline
# (N=1 to 21), a figure that machine load does not change, at -O0, checking only and -O2.
# usage: compile_time.sh [compiler...]   (default: g++, and clang++ when present)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
compilers=("$@")
if [ ${#compilers[@]} -eq 0 ]; then
  compilers=(g++)
  command -v clang++ >/dev/null && compilers+=(clang++)
fi

pipelines() {  # $1 = count, $2 = distinct|shared|bare
  local header='<trellis/trellis.hpp>'
  [ "$2" = bare ] && header='"bare_syntax.hpp"'
  echo "#include $header"
  echo 'using namespace trellis;'
  for ((i = 0; i < $1; ++i)); do
    local classes=10 max_nodes=4 batch=64 opset=17
    if [ "$2" != shared ]; then
      classes=$((i % 50 + 2)) max_nodes=$((i % 4 + 2)) batch=$((8 * (i % 16 + 1))) opset=$((i % 11 + 7))
    fi
    cat <<CPP
auto pipeline_$i() {
  auto p = dataset<image_folder, classes<$classes>, input_shape<3, 64, 64>>{.root = "data"}
         | environment<curated::pytorch_cuda>{}
         | compute<azure::nc96ads_a100_v4, max_nodes<$max_nodes>>{}
         | distributed<PyTorch, nodes<2>, procs<4>>{}
         | train<models::resnet18, epochs<$((i + 1))>, global_batch<$batch>>{.lr = 1e-3}
         | register_model<"model-$i">{}
         | export_onnx<opset<$opset>>{};
  static_assert(is_valid_v<decltype(p)>);
  return p;
}
CPP
  done
  echo 'int main() {}'
}

compile() {  # compiler, source, [mode flags: default -O0 -c], [launcher...]: one compile
  # shellcheck disable=SC2086  # the mode is several flags
  "${@:4}" "$1" -std=c++20 ${3:--O0 -c} -I"$root/include" -I"$here" "$2" -o "$work/out.o"
}

# Arithmetic on decimals with awk, which every Debian and Ubuntu system has (bc may be missing).
calc() {  # expression -> its value
  awk "BEGIN { printf \"%.6f\", $1 }"
}
less_than() {  # a b -> status 0 when a < b
  awk "BEGIN { exit !($1 < $2) }"
}

best_of_3() {  # compiler, source, [mode flags] -> seconds (best of 3)
  local best=""
  for _ in 1 2 3; do
    local start end t
    start=$(date +%s.%N)
    compile "$@"
    end=$(date +%s.%N)
    t=$(calc "$end - $start")
    if [ -z "$best" ] || less_than "$t" "$best"; then best=$t; fi
  done
  echo "$best"
}

instructions() {  # compiler, source, [mode flags] -> instructions run by the compiler proper
  compile "$1" "$2" "${3:-}" valgrind --tool=cachegrind --cache-sim=no --trace-children=yes \
    --cachegrind-out-file=/dev/null 2>&1 | sed -n 's/.*I *refs: *//p' | tr -d , | sort -n | tail -1
}

echo 'int main() {}' >"$work/empty.cpp"
printf '#include <trellis/trellis.hpp>\nint main() {}\n' >"$work/include.cpp"
for shape in distinct shared bare; do
  for n in 1 21 50 200; do pipelines $n $shape >"$work/$shape$n.cpp"; done
done

# Milliseconds depend on the machine as much as on the sources, so the figures name it.
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
echo "machine: ${cpu:-unknown CPU}, $(nproc) cores"
for cxx in "${compilers[@]}"; do
  empty=$(best_of_3 "$cxx" "$work/empty.cpp")
  include=$(best_of_3 "$cxx" "$work/include.cpp")
  echo "== $($cxx --version | head -1)"
  printf '  front-end include cost      %6.3f s  (target < 0.5 s)\n' "$(calc "$include - $empty")"
  declare -A marginal
  for shape in distinct shared bare; do
    declare -A t
    above=$include  # what the shape's own include costs
    [ $shape = bare ] && above=$empty
    for n in 1 50 200; do
      t[$n]=$(best_of_3 "$cxx" "$work/$shape$n.cpp")
      printf '  %-8s N = %3d          %6.3f s total, %6.2f ms per pipeline above the include\n' \
        "$shape" "$n" "${t[$n]}" "$(calc "1000 * (${t[$n]} - $above) / $n")"
    done
    marginal[$shape]=$(calc "1000 * (${t[200]} - ${t[1]}) / 199")
    printf '  %-8s marginal cost     %6.2f ms per pipeline  %s\n' "$shape" "${marginal[$shape]}" \
      "$([ $shape = bare ] && echo '(the syntax alone)' || echo '(target < 5 ms)')"
    # The same with checking only (no code generated): what the rules and types cost.
    s1=$(best_of_3 "$cxx" "$work/${shape}1.cpp" -fsyntax-only)
    s200=$(best_of_3 "$cxx" "$work/${shape}200.cpp" -fsyntax-only)
    printf '  %-8s checking only     %6.2f ms per pipeline  (-fsyntax-only)\n' \
      "$shape" "$(calc "1000 * ($s200 - $s1) / 199")"
  done
  for shape in distinct shared; do
    printf '  %-8s marginal / bare   %6.2f x  (what checking multiplies the syntax cost by)\n' \
      "$shape" "$(calc "${marginal[$shape]} / ${marginal[bare]}")"
  done
  if command -v valgrind >/dev/null; then
    for shape in distinct bare; do
      for mode in "-O0 -c" -fsyntax-only "-O2 -c"; do  # -O2: what a release build pays
        i1=$(instructions "$cxx" "$work/${shape}1.cpp" "$mode")
        i21=$(instructions "$cxx" "$work/${shape}21.cpp" "$mode")
        printf '  %-8s instructions     %6.1f M per pipeline  (%s)\n' \
          "$shape" "$(calc "($i21 - $i1) / 20 / 1000000")" "$mode"
      done
    done
  fi
done
