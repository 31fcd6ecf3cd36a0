#!/usr/bin/env bash
# session 15, A/B: base (HEAD 5eb0602) vs new (non-general variants without the in-kernel merge code)
set -u
export WANT=${WANT:-H} VS="base new" CASE_VS="new rs1=LEAN_ROW_SPLIT=1 rs2=LEAN_ROW_SPLIT=2" CASES_FILE=.carry/cases15.txt MATS="small quick" PAGES="16 64" REPS=3 TESTS=1
bash bench/ab_builds.sh > $OUT/ab.log 2>&1
B=/tmp/ab_bin
for rep in 1 2; do for lay in bshd bhsd; do for c in "b=1 hq=32 hk=32 d=128 lens=16384" "b=1 hq=32 hk=8 d=128 lens=65536"; do
  $B/base/lean_bench --case "$c" --layout $lay | grep "^b=" | sed "s/^/$lay /"; done; done; done > $OUT/layout.txt 2>&1
cat $OUT/tests.txt; cat $OUT/layout.txt; cat $OUT/ab_table.txt
