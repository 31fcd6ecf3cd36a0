#!/usr/bin/env bash
# Session 10, step 48: timed intervals start behind a spinning kernel (the host enqueues the timed graph
# meanwhile). Full gpu_check at the new timing, then the same binaries with the old timing (no hold) on
# the quick matrices, in the same run.
set -u
nvidia-smi --query-gpu=name --format=csv,noheader | grep -q "${WANT:-H}" || { nvidia-smi -L; exit 3; }
mkdir -p /tmp/bin /tmp/final && tar xJf .carry/bin.tar.xz -C /tmp/bin
O=$OUT
OUT=/tmp/final LEAN_BIN=/tmp/bin bash tools/gpu_check.sh run > /tmp/final/run.log 2>&1; echo "gpu_check rc=$?"
echo ${COMMIT:-unknown} > /tmp/final/COMMIT
mkdir -p /tmp/final/old_timing
LEAN_PEERS_HOLD_CYCLES=0 python3 bench/peers.py --lib /tmp/bin/liblean_cuda.so --out /tmp/final/old_timing --matrix quick \
  > /tmp/final/old_timing/peers.log 2> /tmp/final/old_timing/peers_rows.log; echo "peers old rc=$?"
python3 bench/peers.py --lib /tmp/bin/liblean_cuda.so --out /tmp/final/new_timing_quick --matrix quick \
  > /tmp/final/new_timing_quick.log 2>&1; echo "peers new quick rc=$?"
for h in 0 100; do /tmp/bin/lean_bench --matrix small --reps 100 --hold-us $h 2>/dev/null | grep -E "^b=" > /tmp/final/old_timing/lean_bench_small_hold$h.txt; done
tar czf $O/final.tgz -C /tmp final
tail -48 /tmp/final/run.log | grep -E "^\||Geometric|ceilings"
grep -E "^\||Geometric" /tmp/final/old_timing/peers.md; grep -E "Geometric" /tmp/final/new_timing_quick/peers.md
paste /tmp/final/old_timing/lean_bench_small_hold0.txt /tmp/final/old_timing/lean_bench_small_hold100.txt | awk '{print $6, $7, $19}'
