# Session 8, run 1 (H100): one block-table lookup a warp (each warp copies 16 whole rows; exp build,
# .carry/exp) against one a chunk (the library at 79b0557, .carry). GPU tests of the exp build in
# both load modes first; then pages of 16 and 64 at G = 128 and 256, and the quick matrix.
set -u
R=/tmp/r1; mkdir -p $R
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,clocks.mem --format=csv,noheader | tee $R/card.txt
nvidia-smi --query-gpu=name --format=csv,noheader | grep -q H100 || { echo "not an H100"; exit 3; }
export LEAN_GOLDEN_DIR=golden/data
for tma in 0 1; do LEAN_TMA=$tma .carry/exp/lean_tests_gpu > $R/gpu_tests_exp_tma$tma.log 2>&1; echo "tests tma=$tma rc=$? $(tail -2 $R/gpu_tests_exp_tma$tma.log | tr '\n' ' ')"; done
for r in 1 2; do for v in base exp; do B=.carry/lean_bench; [ $v = exp ] && B=.carry/exp/lean_bench
  for pg in 16 64; do $B --matrix paged --page $pg --sweep-grid 128,256 --reps 100 > $R/p${pg}_${v}_$r.txt 2>&1; done
  $B --matrix quick --reps 100 > $R/quick_${v}_$r.txt 2>&1; done; done
for f in $R/p*_*.txt; do echo "== $(basename $f)"; grep -E "ctx=|sweep" $f | cut -c1-150; done
tar czf $OUT/r1.tgz -C /tmp r1
