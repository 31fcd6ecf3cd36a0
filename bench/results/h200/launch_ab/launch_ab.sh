set -u
B=.carry; R=$OUT/r; mkdir -p $R
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,clocks.mem --format=csv,noheader | tee $R/card.txt
for r in 1 2; do
  python3 bench/peers.py --lib $B/liblean_cuda.so --out $R/peers_sk_first_$r --matrix launch > $R/peers_sk_first_$r.log 2>&1
  LEAN_PEERS_PLAIN_FIRST=1 python3 bench/peers.py --lib $B/liblean_cuda.so --out $R/peers_plain_first_$r --matrix launch > $R/peers_plain_first_$r.log 2>&1
done
for r in 1 2; do for c in 0 1; do
  if [ $c = 1 ]; then export LEAN_EXP_LATE_TRIGGER=1; else unset LEAN_EXP_LATE_TRIGGER; fi
  $B/lean_bench --matrix small --reps 100 > $R/small_late${c}_$r.txt 2>/dev/null
  $B/lean_bench --matrix quick --only b=8 --reps 30 > $R/b8_late${c}_$r.txt 2>/dev/null
done; done
unset LEAN_EXP_LATE_TRIGGER
for f in $R/peers_*_[12]; do echo "== $f"; grep "^|" $f/peers.md | cut -d'|' -f2,4,5,8,9,12,13; done
for c in 0 1; do for r in 1 2; do printf "late$c run$r small: "; awk 'NR>5 && /us/{printf "%s ", $8}' $R/small_late${c}_$r.txt; printf " b8: "; awk 'NR>5 && /us/{printf "%s ", $8}' $R/b8_late${c}_$r.txt; echo; done; done
tar czf $OUT/launch_ab.tgz -C $OUT r && rm -rf $R
