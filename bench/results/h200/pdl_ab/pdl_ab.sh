# A/B of the programmatic launch (step 34): small rows under each configuration, twice, alternating
set -u
B=.carry
R=$OUT/r; mkdir -p $R
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,clocks.mem --format=csv,noheader | tee $R/card.txt
export LEAN_GOLDEN_DIR=golden/data
LEAN_PREFETCH_TILES=4 $B/lean_tests_gpu "[pdl],[combine],[determinism],[random]" > $R/tests.log 2>&1; echo "tests (prefetch 4) rc=$? $(tail -2 $R/tests.log | head -1)"
LEAN_TMA=0 LEAN_PREFETCH_TILES=4 $B/lean_tests_gpu "[pdl],[combine],[determinism]" > $R/tests2.log 2>&1; echo "tests (prefetch 4, cp.async) rc=$? $(tail -2 $R/tests2.log | head -1)"
conf() { case $1 in
  A) echo "LEAN_PDL=0";; B) echo "LEAN_PDL=1";; C) echo "LEAN_PDL=1 LEAN_PREFETCH_TILES=2";; D) echo "LEAN_PDL=1 LEAN_PREFETCH_TILES=4";;
  E) echo "LEAN_PDL=1 LEAN_PREFETCH_TILES=4 LEAN_EXP_TRIGGER_FIRST=1";; F) echo "LEAN_PDL=1 LEAN_EXP_TRIGGER_FIRST=1";; G) echo "LEAN_PDL=1 LEAN_PREFETCH_TILES=8";;
  H) echo "LEAN_PDL=1 LEAN_TMA=0";; I) echo "LEAN_PDL=1 LEAN_TMA=0 LEAN_PREFETCH_TILES=4";; J) echo "LEAN_PDL=1 LEAN_TMA=1";; K) echo "LEAN_PDL=1 LEAN_TMA=1 LEAN_PREFETCH_TILES=4";; esac; }
for r in 1 2; do for c in ${CONFS:-A B C D E F G}; do
  env $(conf $c) $B/lean_bench --matrix small --reps 100 > $R/small_${c}_$r.txt 2>/dev/null
done; done
for r in 1; do for c in ${LARGE_CONFS:-A D E}; do
  env $(conf $c) $B/lean_bench --matrix large --reps 30 > $R/large_${c}_$r.txt 2>/dev/null
done; done
echo "stream-K us per row (rows of --matrix small / large), run 1 | run 2"
for c in ${CONFS:-A B C D E F G}; do
  printf "%s %-55s " $c "$(conf $c)"; for r in 1 2; do awk 'NR>5 && /us/{printf "%s ", $8}' $R/small_${c}_$r.txt; printf "| "; done; echo
done
for c in ${LARGE_CONFS:-A D E}; do printf "%s large " $c; awk 'NR>5 && /us/{printf "%s ", $8}' $R/large_${c}_1.txt; echo; done
tar czf $OUT/pdl_ab.tgz -C $OUT r && rm -rf $R
