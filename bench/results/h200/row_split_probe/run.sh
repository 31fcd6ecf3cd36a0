# Session 7, run 3: the row-split probe (row_split_probe.py), cp.async, twice; then the default load path for split 1
set -u
R=/tmp/r3; mkdir -p $R
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,clocks.mem --format=csv,noheader | tee $R/card.txt
for r in 1 2; do LEAN_TMA=0 python3 bench/results/h200/row_split_probe/row_split_probe.py --lib .carry/exp/liblean_cuda.so > $R/probe_$r.txt 2>&1; echo "rc=$?"; grep "MQA\|diff" $R/probe_$r.txt; done
tail -3 $R/probe_1.txt
tar czf $OUT/r3.tgz -C /tmp r3
