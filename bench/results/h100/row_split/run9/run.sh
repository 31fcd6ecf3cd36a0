# Session 7, run 9: GPU tests (LEAN_ROW_SPLIT=R now at any grid); MQA 16k grid sweeps with 16-row blocks
# forced (LEAN_ROW_SPLIT=2) and with whole groups (=0), two alternating repeats
set -u
N=.carry; R=/tmp/r9; mkdir -p $R
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,clocks.mem --format=csv,noheader | tee $R/card.txt
export LEAN_GOLDEN_DIR=golden/data
$N/lean_tests_gpu > $R/tests.log 2>&1; echo "GPU tests rc=$? $(tail -2 $R/tests.log | head -1)"
for r in 1 2; do for v in 2 0; do
  LEAN_ROW_SPLIT=$v $N/lean_bench --matrix small --only "hk=1 " --sweep-grid 32,64,96,128,160,192,256 --reps 100 > $R/sweep_${v}_$r.txt 2>&1
done; done
for v in 2 0; do for r in 1 2; do echo "== LEAN_ROW_SPLIT=$v run $r"; grep -E "sweep|stream-k " $R/sweep_${v}_$r.txt | sed 's/b=1 hq=32 hk=1 d=128 fp16 tile=64 ctx=16384//' | cut -c1-100; done; done
tar czf $OUT/r9.tgz -C /tmp r9
