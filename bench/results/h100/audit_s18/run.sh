#!/usr/bin/env bash
# session 18: planner audit (bench/NOTES.md step 66). 40 random problems (bench/audit_cases.py 40 18),
# the planner's three schedules and stream-K at nine other grids, one pass; prints where stream-K is
# over 2% slower than our fixed split or the fastest swept grid. Binaries: .carry/bin.tar.xz (new/).
set -u
nvidia-smi --query-gpu=name --format=csv,noheader | grep -q "${WANT:-H}" || { nvidia-smi -L; exit 3; }
B=/tmp/bin; mkdir -p $B && tar xJf .carry/bin.tar.xz -C $B
nvidia-smi --query-gpu=name,clocks.max.sm,clocks.max.mem --format=csv,noheader | tee $OUT/card.txt
python3 bench/audit_cases.py 40 18 > $OUT/cases.txt
while IFS= read -r c; do
  echo "case $c"
  $B/new/lean_bench --case "$c" --sweep-grid 66,99,110,120,128,132,198,256,264 2>&1
done < $OUT/cases.txt > $OUT/audit.txt
python3 bench/audit_summary.py $OUT/audit.txt | tee $OUT/summary.txt
