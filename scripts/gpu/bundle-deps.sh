#!/usr/bin/env bash
# Collects, from this Debian machine, what a GPU machine with pip torch (LibTorch + CUDA + NCCL)
# lacks to build and test trellis: Catch2, nlohmann-json, libpng, libjpeg and zlib (headers,
# libraries, CMake package files), and a Fashion-MNIST subset for the local::cuda test.
# usage: scripts/gpu/bundle-deps.sh [DEST]   (default .gpu-deps, ignored by git)
set -euo pipefail
dest=${1:-.gpu-deps}
lib=/usr/lib/x86_64-linux-gnu
rm -rf "$dest"
mkdir -p "$dest/include" "$dest/lib/cmake" "$dest/share/cmake" "$dest/fashion-mnist"
cp -r /usr/include/catch2 /usr/include/nlohmann "$dest/include/"
cp /usr/include/png.h /usr/include/pngconf.h /usr/include/pnglibconf.h /usr/include/jpeglib.h \
  /usr/include/jmorecfg.h /usr/include/jerror.h /usr/include/x86_64-linux-gnu/jconfig.h \
  /usr/include/zlib.h /usr/include/zconf.h "$dest/include/"
cp -a "$lib"/libpng16.so* "$lib"/libjpeg.so* "$dest/lib/"
cp -L "$lib/libz.so.1" "$dest/lib/libz.so.1" && ln -s libz.so.1 "$dest/lib/libz.so"
ln -s libpng16.so "$dest/lib/libpng.so"
cp -r /usr/lib/cmake/Catch2 "$dest/lib/cmake/"
cp /usr/lib/libCatch2WithMain.a "$dest/lib/"  # Catch2's package file lists it
cp -r /usr/share/cmake/nlohmann_json "$dest/share/cmake/"

# Fashion-MNIST: the first 4,096 training images and the whole 10,000-image test set, as IDX.
/usr/bin/python3 - "$dest/fashion-mnist" <<'PY'
import gzip, shutil, struct, sys
src, out = "/usr/share/datasets/fashion-mnist", sys.argv[1]
for name, keep, item in (("train-images-idx3-ubyte", 4096, 784), ("train-labels-idx1-ubyte", 4096, 1)):
    data = gzip.open(f"{src}/{name}.gz").read()
    header = 16 if item > 1 else 8
    head = bytearray(data[:header])
    struct.pack_into(">I", head, 4, keep)
    with gzip.open(f"{out}/{name}.gz", "wb") as f:
        f.write(bytes(head) + data[header:header + keep * item])
for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
    shutil.copy(f"{src}/{name}.gz", out)
PY
du -sh "$dest"
