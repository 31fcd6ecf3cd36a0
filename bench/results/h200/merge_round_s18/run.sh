#!/usr/bin/env bash
# session 18, step 65: the cost model's merge rounds and exact contributor counts for even pieces,
# against f49d157 (base); MQA lengths whose plan changes on the H100 and H200 presets, three controls
set -u
export WANT=${WANT:-H200} VS="new" CASE_VS="base new" CASES_FILE=bench/results/h200/merge_round_s18/cases.txt MATS=" " REPS=${REPS:-3} TESTS=${TESTS:-1}
bash bench/ab_builds.sh > $OUT/ab.log 2>&1
cat $OUT/tests.txt 2>/dev/null
cat $OUT/ab_table.txt
