#!/usr/bin/env bash
# Installs what trellis needs on Debian 12, idempotently: only missing packages are installed,
# and nothing is downloaded when everything is present. Needs root (or sudo).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

apt_install() {
  echo "trellis setup: installing $*"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@"
}

mapfile -t wanted < <(grep -vE '^\s*(#|$)' "$here/debian-packages.txt")
missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt_install "${missing[@]}"
fi

# ONNX Runtime for the ONNX export tests: onnxruntime-node as pinned in package-lock.json, with
# --ignore-scripts (its install script downloads optional CUDA parts and fails offline; the CPU
# runtime is inside the package). Node and npm come from Debian when the machine has no npm.
if [ ! -d "$root/node_modules/onnxruntime-node" ]; then
  command -v npm >/dev/null || apt_install nodejs npm
  (cd "$root" && npm ci --ignore-scripts --no-audit --no-fund)
fi
