#!/usr/bin/env bash
# session 18: short units whose count is under 3/4 of the SMs (48-96 units of 4-64 tiles): the planner's
# stream-K grid against G = units (one whole unit a CTA, no merge), 2 and 3 x units, 128, 132 and 264;
# b1bd80d's lean_bench (.carry/bin.tar.xz base/), one pass, summarised by bench/audit_summary.py
set -u
nvidia-smi --query-gpu=name --format=csv,noheader | grep -q "${WANT:-H}" || { nvidia-smi -L; exit 3; }
B=/tmp/bin; mkdir -p $B && tar xJf .carry/bin.tar.xz -C $B
nvidia-smi --query-gpu=name,clocks.max.sm,clocks.max.mem --format=csv,noheader | tee $OUT/card.txt
while IFS= read -r c; do
  set -- $(echo $c | tr '=' ' '); u=$(($2 * $6))
  echo "case $c"
  $B/base/lean_bench --case "$c" --sweep-grid $u,$((2 * u)),$((3 * u)),128,132,264 2>&1
done < bench/results/h100/short_units_s18/cases.txt > $OUT/sweep.txt
python3 bench/audit_summary.py $OUT/sweep.txt | tee $OUT/summary.txt
