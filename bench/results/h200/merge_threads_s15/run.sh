#!/usr/bin/env bash
# session 15: merge kernel of 512 threads where 256 leave a thread several batches (new) against the
# row-split build 08404d6 (base); GPU tests of new in three load modes + sanitizers
set -u
export WANT=${WANT:-H} VS="base new" CASE_VS="base new" CASES_FILE=.carry/cases15d.txt MATS="merge small" REPS=3 TESTS=1
bash bench/ab_builds.sh > $OUT/ab.log 2>&1
grep -E "units merged|head dim" $OUT/tests_def.log | head -5
cat $OUT/tests.txt; cat $OUT/ab_table.txt
