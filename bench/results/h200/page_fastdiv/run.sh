#!/usr/bin/env bash
# A/B: base (c926651) vs the whole-tile pages' page index by FastDiv instead of / and % (tma_load_tile)
set -u
mkdir -p /tmp/bin && tar xJf .carry/bin.tar.xz -C /tmp/bin
nvidia-smi --query-gpu=name,clocks.max.sm,clocks.mem,driver_version --format=csv,noheader | tee $OUT/card.txt
for rep in 1 2 3; do
  for v in base new; do
    for cfg in "--page 0" "--page 64" "--page 64 --page-order sequential" "--page 128"; do
      r=$(/tmp/bin/$v/lean_bench --matrix paged $cfg --reps 100 2>&1 | tee -a $OUT/log_$v.txt | grep -E "stream-k +[0-9]+ CTAs" | head -1)
      echo "$v rep$rep ${cfg// /_} | $r" | tee -a $OUT/summary.txt
    done
  done
done
