#!/usr/bin/env bash
# session 19: head dim 256 with groups of 40-64 query heads in row blocks (min_row_split) and the
# launcher's shape from choose_launch_shape (shared with `lean plan --explain`). GPU tests of the
# new build (three load modes, memcheck, racecheck); the planner audit (bench/audit_cases.py 40 18,
# compare its grids with ../audit_final_s18/); grid sweeps of large d256 groups, the planner's
# blocks and four blocks of 16 (LEAN_ROW_SPLIT=4). Binaries: .carry/bin.tar.xz (new/).
set -u
nvidia-smi --query-gpu=name --format=csv,noheader | grep -q "${WANT:-H}" || { nvidia-smi -L; exit 3; }
B=/tmp/bin; mkdir -p $B && tar xJf .carry/bin.tar.xz -C $B
nvidia-smi --query-gpu=name,clocks.max.sm,clocks.max.mem --format=csv,noheader | tee $OUT/card.txt
export LEAN_GOLDEN_DIR=golden/data
bash bench/gpu_tests.sh $B/new  # its test block as it ran, now bench/gpu_tests.sh
grep -h "launch shapes equal" $OUT/tests_def.log | tee -a $OUT/tests.txt
python3 bench/audit_cases.py 40 18 > $OUT/cases.txt
while IFS= read -r c; do
  echo "case $c"
  $B/new/lean_bench --case "$c" --sweep-grid 66,99,110,120,128,132,198,256,264 2>&1
done < $OUT/cases.txt > $OUT/audit.txt
python3 bench/audit_summary.py $OUT/audit.txt > $OUT/summary.txt
for c in "b=1 hq=64 hk=1 d=256 lens=80000" "b=1 hq=64 hk=1 d=256 lens=16384" "b=1 hq=48 hk=1 d=256 lens=32768" \
         "b=2 hq=128 hk=2 d=256 lens=8192" "b=4 hq=48 hk=1 d=256 lens=47913,146440,118236,3434" "b=1 hq=64 hk=1 d=256 lens=66863" \
         "b=8 hq=320 hk=8 d=256 lens=4096"; do
  for rs in auto 4; do
    echo "case $c rows=$rs"
    if [ $rs = auto ]; then $B/new/lean_bench --case "$c" --sweep-grid 66,96,100,120,128,132,198,256,264 2>&1
    else LEAN_ROW_SPLIT=$rs $B/new/lean_bench --case "$c" --sweep-grid 66,96,100,120,128,132,198,256,264 2>&1; fi
  done
done > $OUT/wide_groups.txt
# equal pieces on fewer SMs (the rule's first choice) against even pieces on more (its second)
for c in "b=1 hq=32 hk=8 d=128 lens=89600" "b=1 hq=16 hk=2 d=128 lens=80000" "b=1 hq=16 hk=16 d=128 lens=44800" \
         "b=1 hq=16 hk=1 d=128 lens=80000" "b=1 hq=32 hk=8 d=128 lens=448000"; do
  echo "case $c"
  $B/new/lean_bench --case "$c" --sweep-grid 100,104,112,120,125,128,130,132 2>&1
done > $OUT/equal_even.txt
tail -45 $OUT/summary.txt
grep -E "^case|sweep|stream-k  " $OUT/equal_even.txt | sed 's/fp16 tile=64 //' | cut -c1-110
grep -E "^case|b=.*us" $OUT/wide_groups.txt | cut -c1-150 | tail -60
