#!/usr/bin/env bash
# session 18, step 66: short units run whole (G = units) where the sweeps (../short_units_s18/) found it
# faster, against b1bd80d (base); the sweeps' 42 cases, two alternating repeats, GPU tests first
set -u
export WANT=${WANT:-H100} VS="new" CASE_VS="base new" CASES_FILE=bench/results/h100/short_units_s18/cases.txt MATS=" " REPS=${REPS:-2} TESTS=${TESTS:-1}
bash bench/ab_builds.sh > $OUT/ab.log 2>&1
cat $OUT/tests.txt 2>/dev/null
cat $OUT/ab_table.txt
