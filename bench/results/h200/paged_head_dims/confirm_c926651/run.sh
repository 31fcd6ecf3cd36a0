#!/usr/bin/env bash
# paged caches at head dims 64, 128, 256: the planner's choice (auto) against both load paths; GPU tests
set -u
mkdir -p /tmp/bin && tar xJf .carry/bin.tar.xz -C /tmp/bin
B=/tmp/bin/lean_bench
nvidia-smi --query-gpu=name,clocks.max.sm,clocks.mem,driver_version --format=csv,noheader | tee $OUT/card.txt
for c in "b=1 hq=64 hk=64 d=64 lens=65536" "b=8 hq=32 hk=8 d=64 lens=16384" "b=1 hq=16 hk=16 d=256 lens=65536" "b=8 hq=16 hk=4 d=256 lens=16384" "b=8 hq=32 hk=8 d=128 lens=16384"; do
  for pg in 0 16 32 64; do
    for tma in auto 0 1; do
      [ $pg = 0 ] && [ $tma != auto ] && continue
      if [ $tma = auto ]; then unset LEAN_TMA; else export LEAN_TMA=$tma; fi
      r=$($B --case "$c" --page $pg --reps 100 2>&1 | tee -a $OUT/log.txt | grep -E "stream-k +[0-9]+ CTAs" | tail -1)
      echo "tma=$tma page=$pg | $r" | tee -a $OUT/summary.txt
    done
  done
done
unset LEAN_TMA
/tmp/bin/lean_tests_gpu > $OUT/gpu_tests.log 2>&1; echo "gpu tests rc=$?"; tail -2 $OUT/gpu_tests.log
