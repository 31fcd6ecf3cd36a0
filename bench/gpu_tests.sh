#!/usr/bin/env bash
# The GPU tests of one build (<bin dir>/lean_tests_gpu) in three load modes (the plan's, LEAN_TMA=0,
# LEAN_TMA=1), then compute-sanitizer memcheck and racecheck on the [sanitize] cases. Writes
# tests_*.log, san_*.log and the summary tests.txt under $OUT. Usage: bash bench/gpu_tests.sh <bin dir>
set -u
B=$1
export LEAN_GOLDEN_DIR=${LEAN_GOLDEN_DIR:-golden/data}
for m in def 0 1; do
  if [ $m = def ]; then $B/lean_tests_gpu > $OUT/tests_$m.log 2>&1; else LEAN_TMA=$m $B/lean_tests_gpu > $OUT/tests_$m.log 2>&1; fi
  echo "tests LEAN_TMA=$m rc=$? $(grep -E 'passed|failed' $OUT/tests_$m.log | tail -1)"
done | tee $OUT/tests.txt
for tool in memcheck racecheck; do
  compute-sanitizer --tool $tool --error-exitcode 9 $B/lean_tests_gpu "[sanitize]" > $OUT/san_$tool.log 2>&1
  echo "$tool rc=$? $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' $OUT/san_$tool.log | tail -1)" | tee -a $OUT/tests.txt
done
