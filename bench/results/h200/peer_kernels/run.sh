# Session 7, run 2: peers.py's paged rows with the gather view, the peers' kernels (torch.profiler),
# our small rows with traces.
set -u
N=.carry; R=/tmp/r2; mkdir -p $R
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,clocks.mem --format=csv,noheader | tee $R/card.txt
python3 bench/peer_kernels.py --out $R/peer_kernels > $R/peer_kernels.txt 2>&1; echo "peer_kernels rc=$?"
cat $R/peer_kernels.txt
mkdir -p $R/traces
$N/lean_bench --matrix small --trace-dir $R/traces > $R/small.txt 2>/dev/null; echo "small rc=$?"
python3 bench/peers.py --lib $N/liblean_cuda.so --out $R/paged --matrix paged > $R/paged.log 2> $R/paged_rows.log; echo "paged rc=$?"
tail -9 $R/paged/peers.md; tail -3 $R/paged_rows.log
tar czf $OUT/r2.tgz -C /tmp r2
