#!/usr/bin/env bash
# A/B/C: base (c926651); a: whole-tile pages' index by FastDiv (tma_load_tile); b: a + the cp.async page-window rows' index by FastDiv
set -u
mkdir -p /tmp/bin && tar xJf .carry/bin.tar.xz -C /tmp/bin
nvidia-smi --query-gpu=name,clocks.max.sm,clocks.mem,driver_version --format=csv,noheader | tee $OUT/card.txt
for rep in 1 2 3; do
  for v in base a b; do
    for cfg in "--page 0" "--page 16" "--page 32" "--page 64"; do
      r=$(/tmp/bin/$v/lean_bench --matrix paged $cfg --reps 100 2>&1 | tee -a $OUT/log_$v.txt | grep -E "stream-k +[0-9]+ CTAs" | head -1)
      echo "$v rep$rep ${cfg// /_} | $r" | tee -a $OUT/summary.txt
    done
  done
done
for tma in 0 1; do LEAN_TMA=$tma /tmp/bin/a/lean_tests_gpu > $OUT/gpu_tests_tma$tma.log 2>&1; echo "gpu tests (a) tma=$tma rc=$?"; tail -2 $OUT/gpu_tests_tma$tma.log; done
