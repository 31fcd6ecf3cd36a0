# Session 8, run 3 (H100): the window split into advance / page / refill (refill after the page
# ids are read, so no page id waits for the load just issued); exp build in .carry/exp. Base
# .carry is the library binary from session 7's end; .carry/head is 79b0557 rebuilt this session
# (run 2's exp no-split rows were 18% slower: is that the build or the change?).
set -u
R=/tmp/r3; mkdir -p $R
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,clocks.mem --format=csv,noheader | tee $R/card.txt
nvidia-smi --query-gpu=name --format=csv,noheader | grep -q H100 || { echo "not an H100"; exit 3; }
export LEAN_GOLDEN_DIR=golden/data
for tma in 0 1; do LEAN_TMA=$tma .carry/exp/lean_tests_gpu > $R/gpu_tests_exp_tma$tma.log 2>&1; echo "tests tma=$tma rc=$? $(tail -2 $R/gpu_tests_exp_tma$tma.log | tr '\n' ' ')"; done
for v in base head exp; do B=.carry/lean_bench; [ $v != base ] && B=.carry/$v/lean_bench
  for pg in 16 64; do $B --matrix paged --page $pg --sweep-grid 128,256 --reps 100 > $R/p${pg}_${v}.txt 2>&1; done
  LEAN_TMA=1 $B --matrix paged --page 16 --sweep-grid 128,256 --reps 100 > $R/p16tma_${v}.txt 2>&1
  $B --matrix quick --reps 100 > $R/quick_${v}.txt 2>&1; done
for f in $R/p*_*.txt; do echo "== $(basename $f)"; grep -E "^sweep|^b=" $f | grep -v "%" | awk '{print $(NF-6),$(NF-5),$(NF-4),$(NF-3)}' | tr '\n' ' '; echo; done
for v in base head exp; do echo "== quick $v"; grep -E "us +[0-9]+ GB/s$" $R/quick_$v.txt | awk '{printf "%s ", $(NF-3)}'; echo; done
tar czf $OUT/r3.tgz -C /tmp r3
