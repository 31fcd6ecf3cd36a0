#!/usr/bin/env bash
# Session 14 (step 59): on an H100, the MQA rows with the planner's row split against whole groups
# (LEAN_ROW_SPLIT=0), one binary, three alternating repeats (mqa_ab.txt), then the full
# tools/gpu_check.sh run (GPU tests in three load modes, sanitizers, speed table, peers.py).
# Ran as: WANT=H100 COMMIT=fef697c bash run.sh
set -u
nvidia-smi --query-gpu=name --format=csv,noheader | grep -q "${WANT:-H}" || { nvidia-smi -L; exit 3; }
mkdir -p /tmp/bin /tmp/final && tar xJf .carry/bin.tar.xz -C /tmp/bin
for rep in 1 2 3; do for rs in planner 0; do for c in "b=1 hq=32 hk=1 d=128 lens=16384" "b=1 hq=32 hk=1 d=128 lens=32768" \
  "b=1 hq=32 hk=1 d=128 lens=131072" "b=1 hq=32 hk=1 d=128 lens=262144" "b=1 hq=32 hk=1 d=128 lens=524288" "b=4 hq=32 hk=1 d=128 lens=65536"; do
  if [ $rs = planner ]; then r=$(/tmp/bin/new/lean_bench --case "$c" 2>&1 | grep stream-k); else r=$(LEAN_ROW_SPLIT=0 /tmp/bin/new/lean_bench --case "$c" 2>&1 | grep stream-k); fi
  echo "rep=$rep split=$rs $r"; done; done; done > /tmp/final/mqa_ab.txt
OUT=/tmp/final LEAN_BIN=/tmp/bin/new bash tools/gpu_check.sh run > /tmp/final/run.log 2>&1; echo "gpu_check rc=$?"
echo ${COMMIT:-unknown} > /tmp/final/COMMIT
tar czf $OUT/final.tgz -C /tmp final
awk '{print $2, $6, $(NF-5), $(NF-4), $(NF-3)}' /tmp/final/mqa_ab.txt | sort | uniq -c | sort -k3,3 -k4,4 | head -40
grep -E "passed|failed|SUMMARY" /tmp/final/run.log
tail -48 /tmp/final/run.log | grep -E "^\||Geometric|ceilings"
