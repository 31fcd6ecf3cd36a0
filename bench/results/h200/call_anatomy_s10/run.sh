#!/usr/bin/env bash
# Session 10: where a call's time goes (bench/call_anatomy.py, ours vs cuDNN in graph replay under the
# profiler) and MQA 16k grid sweeps (row blocks, both load paths), at 6258128
set -u
nvidia-smi --query-gpu=name --format=csv,noheader | grep -q "${WANT:-H}" || { nvidia-smi -L; exit 3; }
mkdir -p /tmp/bin && tar xJf .carry/bin.tar.xz -C /tmp/bin
nvidia-smi --query-gpu=name,clocks.max.sm,clocks.mem,driver_version --format=csv,noheader | tee $OUT/card.txt
python3 bench/call_anatomy.py --lib /tmp/bin/liblean_cuda.so --out /tmp/anat > $OUT/anatomy.txt 2>&1; echo "anatomy rc=$?"
tar czf $OUT/anatomy_traces.tgz -C /tmp anat
M='b=1 hq=32 hk=1 d=128 lens=16384'
for rep in 1 2; do
  for tma in default 0; do
    if [ $tma = 0 ]; then export LEAN_TMA=0; else unset LEAN_TMA; fi
    echo "== LEAN_TMA=$tma rep$rep" >> $OUT/mqa16k_sweep.txt
    /tmp/bin/lean_bench --case "$M" --reps 200 --sweep-grid 64,96,112,120,128,132,144,160,192,256 2>>$OUT/err.txt | grep -E "^b=|sweep" >> $OUT/mqa16k_sweep.txt
  done
done
unset LEAN_TMA
cat $OUT/anatomy.txt; cut -c1-110 $OUT/mqa16k_sweep.txt
