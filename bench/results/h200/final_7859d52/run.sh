#!/usr/bin/env bash
# Session 12, step 54 (short stream-K streams by tensor loads on every Hopper card): A/B against
# ccf875c (base) on the small matrix, then the full
# tools/gpu_check.sh run (GPU tests in three load modes, sanitizers, speed table, peers.py)
set -u
nvidia-smi --query-gpu=name --format=csv,noheader | grep -q "${WANT:-H}" || { nvidia-smi -L; exit 3; }
mkdir -p /tmp/bin /tmp/final/ab && tar xJf .carry/bin.tar.xz -C /tmp/bin
for rep in 1 2; do
  for v in base new; do
    echo "== $v rep$rep" >> /tmp/final/ab/summary.txt
    /tmp/bin/$v/lean_bench --matrix small --reps 100 2>/dev/null | grep -E "^b=" >> /tmp/final/ab/summary.txt
  done
done
O=$OUT
OUT=/tmp/final LEAN_BIN=/tmp/bin bash tools/gpu_check.sh run > /tmp/final/run.log 2>&1; echo "gpu_check rc=$?"
echo ${COMMIT:-unknown} > /tmp/final/COMMIT
tar czf $O/final.tgz -C /tmp final
grep -E "passed|failed|SUMMARY" /tmp/final/run.log
tail -48 /tmp/final/run.log | grep -E "^\||Geometric|ceilings"
