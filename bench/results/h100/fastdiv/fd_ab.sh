# Step 37 A/B: FastDiv unit lookups (new) against integer divisions (base: 5b23a1c + diagnostic stamps)
set -u
N=.carry; A=.carry/base; R=$OUT/r; mkdir -p $R
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,clocks.mem --format=csv,noheader | tee $R/card.txt
export LEAN_GOLDEN_DIR=golden/data
$N/lean_tests_gpu > $R/tests.log 2>&1; echo "GPU tests rc=$? $(tail -2 $R/tests.log | head -1)"
for r in 1 2 3; do for v in base new; do D=$N; [ $v = base ] && D=$A
  $D/lean_bench --matrix small --reps 100 > $R/small_${v}_$r.txt 2>/dev/null; done; done
for v in base new; do for r in 1 2 3; do printf "%-4s run$r small: " $v; awk 'NR>5 && /us/{printf "%s ", $8}' $R/small_${v}_$r.txt; echo; done; done
tar czf $OUT/fd_ab.tgz -C $OUT r && rm -rf $R
