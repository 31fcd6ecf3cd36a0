set -u
R=$OUT/r; mkdir -p $R/tr
nvidia-smi --query-gpu=name --format=csv,noheader | tee $R/card.txt
.carry/lean_bench --matrix small --reps 20 --trace-dir $R/tr > $R/small.txt 2>/dev/null
LEAN_TMA=1 .carry/lean_bench --matrix small --only "ctx=1024" --reps 20 --trace-dir $R/tr_tma > $R/small_tma.txt 2>/dev/null
tar czf $OUT/diag.tgz -C $OUT r && rm -rf $R
