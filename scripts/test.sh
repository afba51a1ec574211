#!/usr/bin/env bash
# Set up, build, and run every test (CTest). .ci/run runs exactly this. After the main build,
# two sanitizer builds with only their own targets: build-sanitize (g++, ASan + UBSan: the front
# end, the process layer, model.pt reading) and build-fuzz (clang, libFuzzer + ASan + UBSan: a
# fuzz target for every parser of outside input, and replays of their seeds and findings).
# Arguments go to each ctest. Every build runs; the script fails if any test failed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh"
bash "$root/scripts/configure.sh"
status=0
(cd "$root/build" && ctest -j "$(nproc)" --output-on-failure "$@") || status=1

export UBSAN_OPTIONS=print_stacktrace=1
if symbolizer=$(command -v llvm-symbolizer-14 || command -v llvm-symbolizer); then
  export ASAN_SYMBOLIZER_PATH=$symbolizer
fi
only_tests=(-G Ninja -DTRELLIS_BUILD_EXAMPLES=OFF -DTRELLIS_BUILD_BENCHMARKS=OFF)
cmake -S "$root" -B "$root/build-sanitize" "${only_tests[@]}" -DCMAKE_CXX_COMPILER=g++ \
      -DTRELLIS_SANITIZE=ON >/dev/null
cmake --build "$root/build-sanitize" -j "$(nproc)"
(cd "$root/build-sanitize" && ctest -j "$(nproc)" --output-on-failure "$@") || status=1

clang=$(command -v clang++-14 || command -v clang++)
cmake -S "$root" -B "$root/build-fuzz" "${only_tests[@]}" -DCMAKE_CXX_COMPILER="$clang" \
      -DTRELLIS_FUZZ=ON >/dev/null
cmake --build "$root/build-fuzz" -j "$(nproc)"
(cd "$root/build-fuzz" && ctest -j "$(nproc)" --output-on-failure "$@") || status=1
exit $status
