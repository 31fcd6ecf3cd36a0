# Session 8, run 2 (H100): page ids from a per-warp window of the block table, read a stage ahead
# (PageWindow; cp.async: each warp copies 16 whole rows of one page; tensor loads: warp 0 looks the
# boxes' pages up), exp build in .carry/exp, against the library at 79b0557 (.carry). GPU tests
# of the exp build in both load modes and memcheck first; then b8 GQA 16k paged at G = 128 and 256
# (pages of 16 by cp.async and by tensor loads, 32, 64), and the quick matrix for regressions.
set -u
R=/tmp/r2; mkdir -p $R
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,clocks.mem --format=csv,noheader | tee $R/card.txt
nvidia-smi --query-gpu=name --format=csv,noheader | grep -q H100 || { echo "not an H100"; exit 3; }
export LEAN_GOLDEN_DIR=golden/data
for tma in 0 1; do LEAN_TMA=$tma .carry/exp/lean_tests_gpu > $R/gpu_tests_exp_tma$tma.log 2>&1; echo "tests tma=$tma rc=$? $(tail -2 $R/gpu_tests_exp_tma$tma.log | tr '\n' ' ')"; done
compute-sanitizer --tool memcheck --error-exitcode 9 .carry/exp/lean_tests_gpu "[sanitize]" > $R/memcheck_exp.log 2>&1; echo "memcheck rc=$? $(grep 'ERROR SUMMARY' $R/memcheck_exp.log | tail -1)"
for r in 1 2; do for v in base exp; do B=.carry/lean_bench; [ $v = exp ] && B=.carry/exp/lean_bench
  for pg in 16 32 64; do $B --matrix paged --page $pg --sweep-grid 128,256 --reps 100 > $R/p${pg}_${v}_$r.txt 2>&1; done
  LEAN_TMA=1 $B --matrix paged --page 16 --sweep-grid 128,256 --reps 100 > $R/p16tma_${v}_$r.txt 2>&1
  $B --matrix quick --reps 100 > $R/quick_${v}_$r.txt 2>&1; done; done
for f in $R/p*_*.txt; do echo "== $(basename $f)"; grep -E "^sweep|^b=" $f | grep -v "%" | awk '{print $(NF-6),$(NF-5),$(NF-4),$(NF-3)}' | tr '\n' ' '; echo; done
tar czf $OUT/r2.tgz -C /tmp r2
