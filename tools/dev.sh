#!/usr/bin/env bash
# Developer entry point (the README's two commands):
#   tools/dev.sh demo   install missing Debian packages, build, run the demo problem
#   tools/dev.sh test   install missing Debian packages, build, run every CPU test
#   tools/dev.sh deps   only install what is missing
# Safe to run again: packages already present are skipped, the build is incremental.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES="cmake ninja-build g++ git libeigen3-dev catch2 libhdf5-dev libcli11-dev nlohmann-json3-dev libfmt-dev python3-h5py python3-numpy"

deps() {
  local missing=""
  for p in $PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  [ -z "$missing" ] && return 0
  echo "installing:$missing"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

build() {
  # LEAN_CUDA=AUTO: the CUDA kernels and GPU tests compile wherever nvcc is found, GPU or not.
  cmake -S . -B build -G Ninja -DLEAN_CUDA="${LEAN_CUDA:-AUTO}" >/dev/null
  cmake --build build
}

case "${1:-}" in
deps) deps ;;
demo) deps && build && ./build/lean demo --out-dir demo-out ;;
test) deps && build && ctest --test-dir build -L cpu --output-on-failure -j2 ;;
*) echo "usage: tools/dev.sh demo|test|deps" >&2; exit 2 ;;
esac
