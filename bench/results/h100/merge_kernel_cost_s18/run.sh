#!/usr/bin/env bash
# session 18, step 67 (trial): the grid cost model prices every plan's merge as the merge kernel's
# (parallel reads of a row's partials) instead of the in-kernel merge's serial reads, against b63d9a0
# (base); the 14 audit and random problems whose plan changes, three controls; three repeats
set -u
export WANT=${WANT:-H100} VS="new" CASE_VS="base new" CASES_FILE=bench/results/h100/merge_kernel_cost_s18/cases.txt MATS=" " REPS=${REPS:-3} TESTS=${TESTS:-1}
bash bench/ab_builds.sh > $OUT/ab.log 2>&1
cat $OUT/tests.txt 2>/dev/null
cat $OUT/ab_table.txt
