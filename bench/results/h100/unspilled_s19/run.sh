#!/usr/bin/env bash
# session 19, step 68: head dim 256 groups of 17-64 in blocks of at most 16 query heads where they
# run in step, against the build before it (base: choose_launch_shape with min_row_split); 15 cases,
# two alternating repeats, the new build's GPU tests first. Usage: WANT=H100|H200 bash run.sh
set -u
D=$(dirname "$0")
export WANT=${WANT:-H100} VS="new" CASE_VS="base new" CASES_FILE=$D/cases.txt MATS=" " REPS=${REPS:-2} TESTS=${TESTS:-1}
bash bench/ab_builds.sh > $OUT/ab.log 2>&1
grep -h "launch shapes equal" $OUT/tests_def.log >> $OUT/tests.txt
(cd $OUT && tar czf raw.tgz ab.log ab.tgz tests_*.log san_*.log && rm -f ab.log ab.tgz tests_*.log san_*.log)
cat $OUT/tests.txt 2>/dev/null
cat $OUT/ab_table.txt
