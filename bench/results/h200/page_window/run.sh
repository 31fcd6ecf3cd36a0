# Session 8, run 5 (H200): page windows in the paged instantiation (exp build in .carry/exp; its
# cut tiles under tensor loads fixed after H100 run 4) against the library at 79b0557 (.carry).
# GPU tests of the exp build in both load modes and memcheck; then b8 GQA 16k paged at G = 128
# and 256: pages of 16 by tensor loads (the H200's default) and by cp.async, 32, 64; two
# alternating repeats.
set -u
R=/tmp/r5; mkdir -p $R
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,clocks.mem --format=csv,noheader | tee $R/card.txt
nvidia-smi --query-gpu=name --format=csv,noheader | grep -q H200 || { echo "not an H200"; exit 3; }
export LEAN_GOLDEN_DIR=golden/data
for tma in 0 1; do LEAN_TMA=$tma .carry/exp/lean_tests_gpu > $R/gpu_tests_exp_tma$tma.log 2>&1; echo "tests tma=$tma rc=$? $(tail -2 $R/gpu_tests_exp_tma$tma.log | tr '\n' ' ')"; done
compute-sanitizer --tool memcheck --error-exitcode 9 .carry/exp/lean_tests_gpu "[sanitize]" > $R/memcheck_exp.log 2>&1; echo "memcheck rc=$? $(grep 'ERROR SUMMARY' $R/memcheck_exp.log | tail -1)"
for r in 1 2; do for v in base exp; do B=.carry/lean_bench; [ $v = exp ] && B=.carry/exp/lean_bench
  for pg in 16 32 64; do $B --matrix paged --page $pg --sweep-grid 128,256 --reps 100 > $R/p${pg}_${v}_$r.txt 2>&1; done
  LEAN_TMA=0 $B --matrix paged --page 16 --sweep-grid 128,256 --reps 100 > $R/p16cpasync_${v}_$r.txt 2>&1
  LEAN_TMA=0 $B --matrix paged --page 32 --sweep-grid 128,256 --reps 100 > $R/p32cpasync_${v}_$r.txt 2>&1; done; done
for f in $R/p*_*.txt; do echo "== $(basename $f)"; grep -E "^sweep|^b=" $f | grep -v "%" | awk '{print $(NF-6),$(NF-5),$(NF-4),$(NF-3)}' | tr '\n' ' '; echo; done
tar czf $OUT/r5.tgz -C /tmp r5
