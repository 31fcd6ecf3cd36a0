#!/usr/bin/env bash
# session 17: the final build's GPU tests (three load modes) and sanitizers on the H200
set -u
export WANT=${WANT:-H200} VS="new" CASE_VS="new" MATS=" " REPS=1 TESTS=1
unset CASES_FILE
bash bench/ab_builds.sh > $OUT/ab.log 2>&1
cat $OUT/tests.txt
