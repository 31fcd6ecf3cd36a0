#!/usr/bin/env bash
# session 19, step 69 (trial): the grid cost model on cards of <= 30 GB/s an SM counts an SM of one d128 CTA (64 KB in
# flight) as streaming at full rate (kSlowInflightNeed); against ebbea7e (base) on 33 problems whose H100 plans it
# changes (random, /tmp-generated; cases.txt), two alternating repeats, GPU tests of the new build first.
set -u
D=$(dirname "$0")
export WANT=${WANT:-H100} VS="new" CASE_VS="base new" CASES_FILE=$D/cases.txt MATS=" " REPS=${REPS:-2} TESTS=${TESTS:-1}
bash bench/ab_builds.sh > $OUT/ab.log 2>&1
grep -h "launch shapes equal" $OUT/tests_def.log >> $OUT/tests.txt
(cd $OUT && tar czf raw.tgz ab.log ab.tgz tests_*.log san_*.log && rm -f ab.log ab.tgz tests_*.log san_*.log)
cat $OUT/tests.txt 2>/dev/null
cat $OUT/ab_table.txt
