#!/usr/bin/env bash
# session 18: b1 MQA 32/1 at lengths the H200 plans in whole groups by the cost model (132 CTAs at
# 100000 tokens, 24.6 us against our fixed split's 23.6 in ../grid_even_s18/): stream-K at other
# grids, whole groups and (LEAN_ROW_SPLIT=2) two row blocks, two repeats; f49d157's lean_bench
set -u
nvidia-smi --query-gpu=name --format=csv,noheader | grep -q "${WANT:-H200}" || { nvidia-smi -L; exit 3; }
B=/tmp/bin; mkdir -p $B && tar xJf .carry/bin.tar.xz -C $B
nvidia-smi --query-gpu=name,clocks.max.sm,clocks.max.mem --format=csv,noheader | tee $OUT/card.txt
for rep in 1 2; do
  for len in 50000 77777 100000 131072 200000; do
    c="b=1 hq=32 hk=1 d=128 lens=$len"
    $B/new/lean_bench --case "$c" --sweep-grid 66,88,99,104,110,116,120,124,128,132,198,264 2>&1 | sed "s/^/rep$rep whole /"
    LEAN_ROW_SPLIT=2 $B/new/lean_bench --case "$c" --sweep-grid 104,120,128,132,264 2>&1 | sed "s/^/rep$rep rows2 /"
  done
done > $OUT/sweep.txt
grep -E "sweep|us " $OUT/sweep.txt | grep -v "^#" | sed -E 's/ +/ /g' | cut -c1-150
