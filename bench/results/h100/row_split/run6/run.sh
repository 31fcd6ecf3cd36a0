# Session 7, run 6: as run 5 after the fixes (row split only below 3/4 of the SMs; tensor loads for row
# blocks): GPU tests + sanitizers, the A/B against LEAN_ROW_SPLIT=0, and the row split by cp.async (LEAN_TMA=0).
set -u
N=.carry; R=/tmp/r6; mkdir -p $R
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,clocks.mem --format=csv,noheader | tee $R/card.txt
export LEAN_GOLDEN_DIR=golden/data
$N/lean_tests_gpu > $R/tests.log 2>&1; echo "GPU tests rc=$? $(tail -2 $R/tests.log | head -1)"; grep "row split" $R/tests.log
for t in 0 1; do LEAN_TMA=$t $N/lean_tests_gpu > $R/tests_tma$t.log 2>&1; echo "tma$t rc=$? $(tail -2 $R/tests_tma$t.log | head -1)"; done
for tool in memcheck racecheck; do
  compute-sanitizer --tool $tool --error-exitcode 9 $N/lean_tests_gpu "[sanitize]" > $R/san_$tool.log 2>&1
  echo "$tool rc=$? $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' $R/san_$tool.log | tail -1)"
done
for r in 1 2; do for v in whole split; do
  if [ $v = whole ]; then export LEAN_ROW_SPLIT=0; else unset LEAN_ROW_SPLIT; fi
  $N/lean_bench --matrix small --reps 100 > $R/small_${v}_$r.txt 2>/dev/null; done; done
unset LEAN_ROW_SPLIT
for v in whole split; do for r in 1 2; do printf "%-5s run$r sk: " $v; awk '/us /{printf "%s ", $8}' $R/small_${v}_$r.txt; echo; done; done
LEAN_ROW_SPLIT=0 python3 bench/peers.py --lib $N/liblean_cuda.so --out $R/mqa_whole --matrix mqa > /dev/null 2> $R/mqa_whole.log
python3 bench/peers.py --lib $N/liblean_cuda.so --out $R/mqa_split --matrix mqa > /dev/null 2> $R/mqa_split.log
LEAN_TMA=0 python3 bench/peers.py --lib $N/liblean_cuda.so --out $R/mqa_split_cpasync --matrix mqa > /dev/null 2> $R/mqa_split_cpasync.log
for v in whole split split_cpasync; do echo "== $v"; grep "h32/1 " $R/mqa_$v.log; done
tar czf $OUT/r6.tgz -C /tmp r6
