#!/usr/bin/env bash
# session 15: the row-split rule for one unit's short streams on fast cards (new build) against whole groups
# (LEAN_ROW_SPLIT=1) and the base build; GPU tests of the new build in three load modes + sanitizers
set -u
export WANT=${WANT:-H} VS="base new" CASE_VS="base new rs1=LEAN_ROW_SPLIT=1" CASES_FILE=.carry/cases15c.txt MATS="merge" REPS=3 TESTS=1
bash bench/ab_builds.sh > $OUT/ab.log 2>&1
cat $OUT/tests.txt; cat $OUT/ab_table.txt
