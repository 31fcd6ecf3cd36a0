#!/usr/bin/env bash
# session 17 (step 63, even CTA ranges): new against HEAD's build (base), and new with whole groups (rs1)
set -u
export WANT=${WANT:-H100} VS="new" CASE_VS="base new rs1=LEAN_ROW_SPLIT=1" CASES_FILE=.carry/cases17a.txt MATS=" " REPS=${REPS:-2} TESTS=${TESTS:-1}
bash bench/ab_builds.sh > $OUT/ab.log 2>&1
cat $OUT/tests.txt 2>/dev/null
cat $OUT/ab_table.txt
