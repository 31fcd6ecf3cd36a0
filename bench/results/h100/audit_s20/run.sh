#!/usr/bin/env bash
# session 20: the planner audit on 40 new random problems (bench/audit_cases.py 40 20; session 18-19
# audits used seed 18) plus two head-dim-256 batches of wide groups, each timed by lean_bench at the
# planner's three schedules and stream-K at nine other grids (bench/audit_summary.py flags stream-K
# over 2% slower than our fixed split or the best swept grid). Binaries: .carry/bin.tar.xz (new/).
set -u
nvidia-smi --query-gpu=name --format=csv,noheader | grep -q "${WANT:-H}" || { nvidia-smi -L; exit 3; }
B=/tmp/bin; mkdir -p $B && tar xJf .carry/bin.tar.xz -C $B
nvidia-smi --query-gpu=name,clocks.max.sm,clocks.max.mem --format=csv,noheader | tee $OUT/card.txt
{ python3 bench/audit_cases.py 40 20; echo "b=16 hq=512 hk=16 d=256 lens=2048"; echo "b=3 hq=96 hk=3 d=256 lens=3000,50000,20000"; echo "b=12 hq=384 hk=12 d=256 lens=4096"; } > $OUT/cases.txt
while IFS= read -r c; do
  echo "case $c"
  $B/new/lean_bench --case "$c" --sweep-grid 66,99,110,120,128,132,198,256,264 2>&1
done < $OUT/cases.txt > $OUT/audit.txt
python3 bench/audit_summary.py $OUT/audit.txt > $OUT/summary.txt
tail -50 $OUT/summary.txt
