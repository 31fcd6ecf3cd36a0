#!/usr/bin/env bash
# session 17: even ranges with the merge kernel reading the plan's contributors (SplitUnit) against
# session 16's build (base); small rows (the +0.1-0.2 us of run 3) and uneven lengths
set -u
export WANT=${WANT:-H100} VS="new" CASE_VS="base new" CASES_FILE=.carry/cases17d.txt MATS=" " REPS=${REPS:-3} TESTS=${TESTS:-1}
bash bench/ab_builds.sh > $OUT/ab.log 2>&1
cat $OUT/tests.txt 2>/dev/null
cat $OUT/ab_table.txt
