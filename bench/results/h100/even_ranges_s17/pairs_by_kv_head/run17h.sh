#!/usr/bin/env bash
# session 17: row blocks of several units paired by KV head (cta_of_block over h = G / U): new
# against this session's previous build (s17, ae58564) and session 16's (base)
set -u
export WANT=${WANT:-H100} VS="new" CASE_VS="base s17 new" CASES_FILE=.carry/cases17h.txt MATS=" " REPS=${REPS:-3} TESTS=${TESTS:-1}
bash bench/ab_builds.sh > $OUT/ab.log 2>&1
cat $OUT/tests.txt 2>/dev/null
cat $OUT/ab_table.txt
