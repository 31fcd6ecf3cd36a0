#!/usr/bin/env bash
# Session 10, step 50 at 388f1f8: A/B against 6258128 (base) on the small matrix and MQA rows, then the full
# tools/gpu_check.sh run (GPU tests in three load modes, sanitizers, speed table, peers.py)
set -u
nvidia-smi --query-gpu=name --format=csv,noheader | grep -q "${WANT:-H}" || { nvidia-smi -L; exit 3; }
mkdir -p /tmp/bin /tmp/final/ab && tar xJf .carry/bin.tar.xz -C /tmp/bin
for rep in 1 2; do
  for v in base new; do
    echo "== $v rep$rep" >> /tmp/final/ab/summary.txt
    /tmp/bin/$v/lean_bench --matrix small --reps 200 2>/dev/null | grep -E "^b=" >> /tmp/final/ab/summary.txt
    for c in 'b=1 hq=32 hk=1 d=128 lens=65536' 'b=1 hq=32 hk=1 d=128 lens=131072' 'b=1 hq=64 hk=2 d=128 lens=16384'; do
      /tmp/bin/$v/lean_bench --case "$c" --reps 200 2>/dev/null | grep -E "^b=" >> /tmp/final/ab/summary.txt
    done
  done
done
O=$OUT
OUT=/tmp/final LEAN_BIN=/tmp/bin bash tools/gpu_check.sh run > /tmp/final/run.log 2>&1; echo "gpu_check rc=$?"
echo ${COMMIT:-unknown} > /tmp/final/COMMIT
tar czf $O/final.tgz -C /tmp final
grep -E "hk=1 |hk=2 " /tmp/final/ab/summary.txt | cut -c1-75
grep -E "passed|failed|SUMMARY" /tmp/final/run.log
tail -48 /tmp/final/run.log | grep -E "^\||Geometric|ceilings"
