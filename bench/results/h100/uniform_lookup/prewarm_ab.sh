# EXPERIMENT: plan lookups and launch parameters read before griddepcontrol.wait (LEAN_EXP_PREWARM)
set -u
N=.carry; R=$OUT/r; mkdir -p $R
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,clocks.mem --format=csv,noheader | tee $R/card.txt
conf() { case $1 in A) echo "LEAN_PDL=1";; B) echo "LEAN_PDL=1 LEAN_EXP_PREWARM=1";; C) echo "LEAN_PDL=0";; D) echo "LEAN_PDL=0 LEAN_EXP_PREWARM=1";; esac; }
LEAN_EXP_PREWARM=1 LEAN_GOLDEN_DIR=golden/data $N/lean_tests_gpu "[pdl],[combine],[random]" > $R/tests.log 2>&1; echo "tests rc=$? $(tail -2 $R/tests.log | head -1)"
for r in 1 2; do for c in A B C D; do env $(conf $c) $N/lean_bench --matrix small --reps 100 > $R/small_${c}_$r.txt 2>/dev/null; done; done
for c in A B C D; do printf "%s %-32s" $c "$(conf $c)"; for r in 1 2; do awk 'NR>5 && /us/{printf "%s ", $8}' $R/small_${c}_$r.txt; printf "| "; done; echo; done
tar czf $OUT/prewarm_ab.tgz -C $OUT r && rm -rf $R
