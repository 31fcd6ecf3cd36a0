# Session 7, run 4 (H100): tensor loads against cp.async for whole tiles, small rows twice alternating, quick rows once
set -u
N=.carry; R=/tmp/r4; mkdir -p $R
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,clocks.mem --format=csv,noheader | tee $R/card.txt
nvidia-smi --query-gpu=name --format=csv,noheader | grep -q H100 || { echo "not an H100"; exit 3; }
for r in 1 2; do for t in 0 1; do LEAN_TMA=$t $N/lean_bench --matrix small --reps 100 > $R/small_tma${t}_$r.txt 2>/dev/null; done; done
for t in 0 1; do for r in 1 2; do printf "tma$t run$r sk/fixed/nosplit: " ; awk '/us /{printf "%s/%s/%s ", $8, $9, $10}' $R/small_tma${t}_$r.txt; echo; done; done
for t in 0 1; do LEAN_TMA=$t $N/lean_bench --matrix quick > $R/quick_tma${t}.txt 2>/dev/null; done
for t in 0 1; do printf "tma$t quick sk: " ; awk '/us /{printf "%s ", $8}' $R/quick_tma${t}.txt; echo; done
LEAN_TMA=1 python3 bench/results/h200/row_split_probe/row_split_probe.py --lib .carry/liblean_cuda.so --splits 1 > $R/probe_tma1.txt 2>&1 || true
LEAN_TMA=0 python3 bench/results/h200/row_split_probe/row_split_probe.py --lib .carry/exp/liblean_cuda.so > $R/probe_tma0.txt 2>&1
grep MQA $R/probe_*.txt
tar czf $OUT/r4.tgz -C /tmp r4
