#!/usr/bin/env bash
# Registers and spills of every decode instantiation and the merge kernel for sm_90a, from
# ptxas -v (no GPU needed). Usage: tools/ptxas_stats.sh [file.cu ...]
set -euo pipefail
cd "$(dirname "$0")/.."
files=("$@")
[ ${#files[@]} -gt 0 ] || files=(cuda/src/inst/*.cu cuda/src/combine.cu)
for f in "${files[@]}"; do
  /usr/local/cuda/bin/nvcc -Icuda/include -Icuda/src -Isim/core/include -O3 -DNDEBUG -std=c++17 --expt-relaxed-constexpr \
    --extended-lambda -gencode arch=compute_90a,code=sm_90a -Xptxas -v -c "$f" -o /dev/null 2>&1 |
    awk -v file="$(basename "$f" .cu)" '
      /Compiling entry function/ { match($0, /_Z[A-Za-z0-9_]+/); name = substr($0, RSTART, RLENGTH) }
      /spill stores/ { split($0, a, ","); spill = a[2] }
      /Used [0-9]+ registers/ { match($0, /Used [0-9]+ registers/); printf "%-22s %-60s %s,%s\n", file, substr(name, 1, 60), substr($0, RSTART + 5, RLENGTH - 5), spill }'
done
