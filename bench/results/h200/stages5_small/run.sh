#!/usr/bin/env bash
# A/B: base (0ca9642, 3 stages) vs 5 stages at head dim 128 (experiment build): small rows, whose CTAs stream 4 tiles
set -u
mkdir -p /tmp/bin && tar xJf .carry/bin.tar.xz -C /tmp/bin
nvidia-smi --query-gpu=name,clocks.max.sm,clocks.mem,driver_version --format=csv,noheader | tee $OUT/card.txt
for rep in 1 2; do
  for v in base s5; do
    echo "== $v rep$rep" >> $OUT/summary.txt
    /tmp/bin/$v/lean_bench --matrix small --reps 200 2>>$OUT/rows_$v.txt | grep -E "^b=" | tee -a $OUT/summary.txt | sed "s/^/$v /"
  done
done
