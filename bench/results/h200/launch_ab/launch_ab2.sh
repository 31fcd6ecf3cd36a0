# the merge kernel triggering the next call's decode kernel after its wait (default) or not at all (implicit at exit)
set -u
B=.carry; R=$OUT/r; mkdir -p $R
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,clocks.mem --format=csv,noheader | tee $R/card.txt
for r in 1 2; do for c in 0 1; do
  if [ $c = 1 ]; then export LEAN_EXP_MERGE_NO_TRIGGER=1; else unset LEAN_EXP_MERGE_NO_TRIGGER; fi
  python3 bench/peers.py --lib $B/liblean_cuda.so --out $R/peers_notrigger${c}_$r --matrix launch > $R/peers_notrigger${c}_$r.log 2>&1
done; done
for f in $R/peers_*_[12]; do echo "== $f"; grep "^|" $f/peers.md | cut -d'|' -f2,4,5,8,9,12,13; done
tar czf $OUT/launch_ab2.tgz -C $OUT r && rm -rf $R
