#!/usr/bin/env bash
# A/B: base (c926651) vs page indices by FastDiv (whole-tile pages, page-window tensor loads and cp.async rows); GPU tests
set -u
mkdir -p /tmp/bin && tar xJf .carry/bin.tar.xz -C /tmp/bin
nvidia-smi --query-gpu=name,clocks.max.sm,clocks.mem,driver_version --format=csv,noheader | tee $OUT/card.txt
for rep in 1 2 3; do
  for v in base new; do
    for cfg in "--page 0" "--page 16" "--page 32" "--page 64" "--page 16 --page-order sequential"; do
      r=$(/tmp/bin/$v/lean_bench --matrix paged $cfg --reps 100 2>&1 | tee -a $OUT/log_$v.txt | grep -E "stream-k +[0-9]+ CTAs" | head -1)
      echo "$v rep$rep ${cfg// /_} | $r" | tee -a $OUT/summary.txt
    done
  done
done
for tma in 0 1; do LEAN_TMA=$tma /tmp/bin/new/lean_tests_gpu > $OUT/gpu_tests_tma$tma.log 2>&1; echo "gpu tests tma=$tma rc=$?"; tail -2 $OUT/gpu_tests_tma$tma.log; done
