#!/usr/bin/env bash
# Session 16: tools/gpu_check.sh run (disassembly facts, speed table, peers.py) of the build in
# .carry/bin.tar.xz (new/); $OUT gets final.tgz, run.log and COMMIT. Its GPU tests and sanitizers ran on an
# H100 the same session (../row_blocks_s16/tests.txt), so LEAN_TESTS=0.
# Ran as: WANT=H100 COMMIT=621be41 bash run.sh
set -u
nvidia-smi --query-gpu=name --format=csv,noheader | grep -q "${WANT:-H}" || { nvidia-smi -L; exit 3; }
mkdir -p /tmp/bin /tmp/final && tar xJf .carry/bin.tar.xz -C /tmp/bin
echo ${COMMIT:-unknown} > $OUT/COMMIT
LEAN_TESTS=0 OUT=/tmp/final LEAN_BIN=/tmp/bin/new timeout ${LIMIT_S:-540} bash tools/gpu_check.sh run > /tmp/final.log 2>&1; echo "gpu_check rc=$?"
cp /tmp/final.log $OUT/run.log; tar czf $OUT/final.tgz -C /tmp final
tail -48 $OUT/run.log | grep -E "^\||Geometric|ceilings"
