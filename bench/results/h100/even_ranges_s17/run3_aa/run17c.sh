#!/usr/bin/env bash
# session 17: is new's +0.1 us on small rows the change or the binary? base (session 16's build),
# base2 (the same commit rebuilt this session), new
set -u
export WANT=${WANT:-H100} VS="new" CASE_VS="base base2 new" CASES_FILE=.carry/cases17c.txt MATS=" " REPS=${REPS:-3} TESTS=0
bash bench/ab_builds.sh > $OUT/ab.log 2>&1
cat $OUT/ab_table.txt
