#!/usr/bin/env bash
# Same-run A/B of the `base` and `new` builds of .carry/bin.tar.xz over a results directory's
# cases.txt (bench/ab_builds.sh with cases only, two alternating repeats), the new build's GPU tests
# first; the logs go into raw.tgz so that a device run returns few files.
# Usage: WANT=H100|H200 bash bench/ab_cases.sh <results dir holding cases.txt>
set -u
export WANT=${WANT:-H} VS="new" CASE_VS="base new" CASES_FILE=$1/cases.txt MATS=" " REPS=${REPS:-2} TESTS=${TESTS:-1}
bash bench/ab_builds.sh > $OUT/ab.log 2>&1
grep -h "launch shapes equal" $OUT/tests_def.log >> $OUT/tests.txt
(cd $OUT && tar czf raw.tgz ab.log ab.tgz tests_*.log san_*.log && rm -f ab.log ab.tgz tests_*.log san_*.log)
cat $OUT/tests.txt 2>/dev/null
cat $OUT/ab_table.txt
