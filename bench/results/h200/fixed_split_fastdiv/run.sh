# Session 7, run 1: GPU tests + sanitizers at the session-6 mends and the fixed-split FastDiv,
# A/B of the fixed split's lookups (base: 7897bb3), and the MQA/GQA proxy for a query-row split.
set -u
N=.carry; A=.carry/base; R=/tmp/r; mkdir -p $R
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,clocks.mem --format=csv,noheader | tee $R/card.txt
export LEAN_GOLDEN_DIR=golden/data
$N/lean_tests_gpu > $R/tests.log 2>&1; echo "GPU tests rc=$? $(tail -2 $R/tests.log | head -1)"
LEAN_TMA=0 $N/lean_tests_gpu > $R/tests_tma0.log 2>&1; echo "tma0 rc=$? $(tail -2 $R/tests_tma0.log | head -1)"
LEAN_TMA=1 $N/lean_tests_gpu > $R/tests_tma1.log 2>&1; echo "tma1 rc=$? $(tail -2 $R/tests_tma1.log | head -1)"
for tool in memcheck racecheck; do
  compute-sanitizer --tool $tool --error-exitcode 9 $N/lean_tests_gpu "[sanitize]" > $R/san_$tool.log 2>&1
  echo "$tool rc=$? $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' $R/san_$tool.log | tail -1)"
done
for r in 1 2; do for v in base new; do D=$N; [ $v = base ] && D=$A
  $D/lean_bench --matrix small --reps 100 > $R/small_${v}_$r.txt 2>/dev/null; done; done
for v in base new; do for r in 1 2; do printf "%-4s run$r sk/fixed: " $v; awk '/us /{printf "%s/%s ", $8, $9}' $R/small_${v}_$r.txt; echo; done; done
python3 bench/peers.py --lib $N/liblean_cuda.so --out $R/mqa --matrix mqa > $R/mqa.log 2> $R/mqa_rows.log; echo "peers rc=$?"
tail -12 $R/mqa/peers.md
tar czf $OUT/r.tgz -C /tmp r
