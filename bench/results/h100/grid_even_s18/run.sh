#!/usr/bin/env bash
# session 18: the one-CTA-per-SM grid rule's second choice (even pieces where U divides G) against
# HEAD 6b166fc (base); lengths no grid of the window cuts exactly, plus two aligned controls
set -u
export WANT=${WANT:-H100} VS="new" CASE_VS="base new" CASES_FILE=bench/results/h100/grid_even_s18/cases.txt MATS=" " REPS=${REPS:-3} TESTS=${TESTS:-1}
bash bench/ab_builds.sh > $OUT/ab.log 2>&1
cat $OUT/tests.txt 2>/dev/null
cat $OUT/ab_table.txt
