#!/usr/bin/env bash
# session 16 (step 62): row splits in at most two blocks (16-row blocks for the shortest streams), grids a
# multiple of the split, whole groups where blocks out of step would not share L2, one unit only for short
# streams; new against HEAD (base) and whole groups (rs1); GPU tests of new in three load modes + sanitizers
set -u
export WANT=${WANT:-H} VS="new" CASE_VS="base new rs1=LEAN_ROW_SPLIT=1" CASES_FILE=.carry/cases16d.txt (bench/results/h100/row_blocks_s16/cases.txt) MATS=" " REPS=2 TESTS=1
bash bench/ab_builds.sh > $OUT/ab.log 2>&1
cat $OUT/tests.txt; cat $OUT/ab_table.txt
