#!/usr/bin/env bash
# Session 10, step 49: two accumulator chains for S = Q K^T where a warp holds two S fragments (m1, head dim <= 128)
# (ilp) against 6258128 (base); GPU tests of ilp; lean_bench A/B; anatomy of both
set -u
nvidia-smi --query-gpu=name --format=csv,noheader | grep -q "${WANT:-H}" || { nvidia-smi -L; exit 3; }
mkdir -p /tmp/bin && tar xJf .carry/bin.tar.xz -C /tmp/bin
nvidia-smi --query-gpu=name,clocks.max.sm,clocks.mem,driver_version --format=csv,noheader | tee $OUT/card.txt
export LEAN_GOLDEN_DIR=golden/data
/tmp/bin/ilp/lean_tests_gpu > $OUT/gpu_tests_ilp.log 2>&1; echo "tests rc=$?"; tail -2 $OUT/gpu_tests_ilp.log
LEAN_TMA=0 /tmp/bin/ilp/lean_tests_gpu > $OUT/gpu_tests_ilp_tma0.log 2>&1; echo "tests tma0 rc=$?"; tail -1 $OUT/gpu_tests_ilp_tma0.log
for rep in 1 2; do
  for v in base ilp; do
    echo "== $v rep$rep" >> $OUT/summary.txt
    /tmp/bin/$v/lean_bench --matrix small --reps 200 2>>$OUT/err.txt | grep -E "^b=" >> $OUT/summary.txt
    for c in 'b=1 hq=32 hk=1 d=128 lens=131072' 'b=1 hq=16 hk=16 d=256 lens=65536' 'b=1 hq=32 hk=32 d=128 lens=16384' 'b=1 hq=64 hk=64 d=64 lens=65536' 'b=8 hq=32 hk=8 d=128 lens=16384 page=16'; do
      /tmp/bin/$v/lean_bench --case "$c" --reps 100 2>>$OUT/err.txt | grep -E "^b=" >> $OUT/summary.txt
    done
  done
done
for v in base ilp; do
  python3 bench/call_anatomy.py --lib /tmp/bin/$v/liblean_cuda.so --rows mha1k,gqa4k,mqa16k,mqa128k --out /tmp/anat_$v > $OUT/anatomy_$v.txt 2>&1
done
grep -E "^[a-z0-9]+:|kernel 0|per call" $OUT/anatomy_*.txt | grep -v cuDNN
cut -c1-100 $OUT/summary.txt
