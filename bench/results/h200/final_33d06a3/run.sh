#!/usr/bin/env bash
# Session 15 (steps 60b and 61): the full tools/gpu_check.sh run (GPU tests in three load modes,
# sanitizers, speed table, peers.py) of the new build from .carry/bin.tar.xz (new/), on the card
# WANT names. Everything lands in $OUT/final.tgz; the summary is printed last.
# Ran as: WANT=H200 (or H100) COMMIT=33d06a3 bash run.sh
set -u
nvidia-smi --query-gpu=name --format=csv,noheader | grep -q "${WANT:-H}" || { nvidia-smi -L; exit 3; }
mkdir -p /tmp/bin /tmp/final && tar xJf .carry/bin.tar.xz -C /tmp/bin
OUT=/tmp/final LEAN_BIN=/tmp/bin/new bash tools/gpu_check.sh run > /tmp/final/run.log 2>&1; echo "gpu_check rc=$?"
echo ${COMMIT:-unknown} > /tmp/final/COMMIT
tar czf $OUT/final.tgz -C /tmp final
grep -E "passed|failed|SUMMARY" /tmp/final/run.log
tail -48 /tmp/final/run.log | grep -E "^\||Geometric|ceilings"
