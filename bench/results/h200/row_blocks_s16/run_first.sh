#!/usr/bin/env bash
# session 16 (step 62) on the H200: new against HEAD (base), whole groups (rs1) and two blocks forced (rs2)
set -u
export WANT=${WANT:-H200} VS="new" CASE_VS="base new rs1=LEAN_ROW_SPLIT=1 rs2=LEAN_ROW_SPLIT=2" CASES_FILE=.carry/cases16e.txt MATS=" " REPS=2 TESTS=0
bash bench/ab_builds.sh > $OUT/ab.log 2>&1
cat $OUT/ab_table.txt
