#!/usr/bin/env bash
# session 19: (1) head dim 256 groups of 24-64 query heads: the planner's blocks against forced
# whole groups / 2 / 4 blocks (LEAN_ROW_SPLIT), stream-K at the planner's grid for each; (2) the
# one-CTA-per-SM rule's equal pieces on fewer SMs against even pieces on more (grid sweeps, as
# ../../h100/kernel_rows_s19/ on the H100). Binaries: .carry/bin.tar.xz (new/).
set -u
nvidia-smi --query-gpu=name --format=csv,noheader | grep -q "${WANT:-H}" || { nvidia-smi -L; exit 3; }
B=/tmp/bin; mkdir -p $B && tar xJf .carry/bin.tar.xz -C $B
nvidia-smi --query-gpu=name,clocks.max.sm,clocks.max.mem --format=csv,noheader | tee $OUT/card.txt
d256() {
  for c in "b=1 hq=32 hk=1 d=256 lens=4096" "b=1 hq=32 hk=1 d=256 lens=16384" "b=1 hq=32 hk=1 d=256 lens=65536" \
           "b=1 hq=32 hk=1 d=256 lens=131072" "b=4 hq=32 hk=1 d=256 lens=16384" "b=2 hq=64 hk=2 d=256 lens=32768" \
           "b=1 hq=24 hk=1 d=256 lens=32768" "b=1 hq=64 hk=1 d=256 lens=16384" "b=1 hq=64 hk=1 d=256 lens=66863" \
           "b=1 hq=48 hk=1 d=256 lens=32768" "b=2 hq=128 hk=2 d=256 lens=8192" "b=8 hq=320 hk=8 d=256 lens=4096" \
           "b=4 hq=48 hk=1 d=256 lens=47913,146440,118236,3434"; do
    hq=$(echo $c | sed 's/.*hq=\([0-9]*\).*/\1/'); hk=$(echo $c | sed 's/.*hk=\([0-9]*\).*/\1/'); g=$((hq / hk))
    for r in auto 1 2 3 4; do
      [ $r != auto ] && { [ $((g % r)) -ne 0 ] || [ $((g / r)) -gt 32 ]; } && continue
      if [ $r = auto ]; then t=$($B/new/lean_bench --case "$c" 2>&1 | grep -E "stream-k  " | head -1)
      else t=$(LEAN_ROW_SPLIT=$r $B/new/lean_bench --case "$c" 2>&1 | grep -E "stream-k  " | head -1); fi
      echo "rows=$r $t"
    done
    $B/new/lean_bench --case "$c" 2>&1 | grep -E "fixed-split|no-split  " | head -2
  done
}
d256 > $OUT/d256_rows.txt 2>&1
for c in "b=1 hq=32 hk=8 d=128 lens=89600" "b=1 hq=16 hk=2 d=128 lens=80000" "b=1 hq=16 hk=16 d=128 lens=44800" \
         "b=1 hq=16 hk=1 d=128 lens=80000" "b=1 hq=32 hk=8 d=128 lens=448000"; do
  echo "case $c"
  $B/new/lean_bench --case "$c" --sweep-grid 100,104,112,120,125,128,130,132 2>&1
done > $OUT/equal_even.txt
grep -E "^case|sweep|stream-k  " $OUT/equal_even.txt | sed 's/fp16 tile=64 //' | cut -c1-110
sed 's/fp16 tile=64 //' $OUT/d256_rows.txt | cut -c1-120
