# (the H200 copy of ../../h100/row_split/run8/run.sh, paths renamed)
# Session 7, run 8: GPU tests with LEAN_ROW_SPLIT=R; MQA with whole groups (LEAN_ROW_SPLIT=0), the
# planner's choice, and two 16-row blocks forced at every context (LEAN_ROW_SPLIT=2; blocks by tensor loads)
set -u
N=.carry; R=/tmp/r8h; mkdir -p $R
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,clocks.mem --format=csv,noheader | tee $R/card.txt
export LEAN_GOLDEN_DIR=golden/data
$N/lean_tests_gpu > $R/tests.log 2>&1; echo "GPU tests rc=$? $(tail -2 $R/tests.log | head -1)"
for r in 1 2; do for v in 0 auto 2; do
  if [ $v = auto ]; then unset LEAN_ROW_SPLIT; else export LEAN_ROW_SPLIT=$v; fi
  python3 bench/peers.py --lib $N/liblean_cuda.so --out $R/mqa_${v}_$r --matrix mqa > /dev/null 2> $R/mqa_${v}_$r.log
done; done
unset LEAN_ROW_SPLIT
for v in 0 auto 2; do for r in 1 2; do echo "== LEAN_ROW_SPLIT=$v run $r"; grep "h32/1 " $R/mqa_${v}_$r.log | cut -c1-150; done; done
tar czf $OUT/r8h.tgz -C /tmp r8h
