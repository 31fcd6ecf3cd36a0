# Step 36 A/B: merge-kernel CTAs of 512 threads where a row merges >= 128 partials (new) against 256 always (base, 8d9e9e1)
set -u
N=.carry; A=.carry/base; R=$OUT/r; mkdir -p $R
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,clocks.mem --format=csv,noheader | tee $R/card.txt
export LEAN_GOLDEN_DIR=golden/data
$N/lean_tests_gpu "[combine],[random],[determinism],[pdl],[sanitize]" > $R/tests.log 2>&1; echo "GPU tests rc=$? $(tail -2 $R/tests.log | head -1)"
for r in 1 2; do for v in base new; do D=$N; [ $v = base ] && D=$A
  $D/lean_bench --matrix merge --reps 100 > $R/merge_${v}_$r.txt 2>/dev/null; done; done
for v in base new; do for r in 1 2; do printf "%-4s run$r merge (MQA 16k, 128k, 512k, GQA 4k, MHA 1k): " $v; awk 'NR>5 && /us/{printf "%s ", $8}' $R/merge_${v}_$r.txt; echo; done; done
tar czf $OUT/mt_ab.tgz -C $OUT r && rm -rf $R
