#!/usr/bin/env bash
# Session 10, step 50: MQA row blocks with neighbouring blockIdx on the same K/V tiles (pair: CTA c runs as
# blockIdx 2c or 2c - G + 1) against 6258128 (base); GPU row-split tests of pair; lean_bench A/B; anatomy
set -u
nvidia-smi --query-gpu=name --format=csv,noheader | grep -q "${WANT:-H}" || { nvidia-smi -L; exit 3; }
mkdir -p /tmp/bin && tar xJf .carry/bin.tar.xz -C /tmp/bin
nvidia-smi --query-gpu=name,clocks.max.sm,clocks.mem,driver_version --format=csv,noheader | tee $OUT/card.txt
export LEAN_GOLDEN_DIR=golden/data
/tmp/bin/pair/lean_tests_gpu > $OUT/gpu_tests_pair.log 2>&1; echo "tests rc=$?"; tail -2 $OUT/gpu_tests_pair.log
for rep in 1 2 3; do
  for v in base pair; do
    echo "== $v rep$rep" >> $OUT/summary.txt
    for c in 'b=1 hq=32 hk=1 d=128 lens=16384' 'b=1 hq=32 hk=1 d=128 lens=65536' 'b=1 hq=32 hk=1 d=128 lens=131072'; do
      /tmp/bin/$v/lean_bench --case "$c" --reps 200 2>>$OUT/err.txt | grep -E "^b=" >> $OUT/summary.txt
      LEAN_ROW_SPLIT=2 /tmp/bin/$v/lean_bench --case "$c" --reps 200 2>>$OUT/err.txt | grep -E "^b=" | sed 's/^/split2 /' >> $OUT/summary.txt
    done
  done
done
for v in base pair; do
  python3 bench/call_anatomy.py --lib /tmp/bin/$v/liblean_cuda.so --rows mqa16k --out /tmp/anat_$v > $OUT/anatomy_$v.txt 2>&1
done
grep -E "kernel|per call" $OUT/anatomy_*.txt
cut -c1-90 $OUT/summary.txt
