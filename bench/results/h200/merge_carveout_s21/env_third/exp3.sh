#!/usr/bin/env bash
# session 21: merge carveout 0 (the merge kernel kept off the decode kernel's SMs) against default,
# by merge-CTA count at G = 128, and at G = 128 vs 132
set -u
mkdir -p /tmp/tb && tar xJf .carry/bin.tar.xz -C /tmp/tb
nvidia-smi --query-gpu=name,clocks.max.sm,clocks.max.mem --format=csv > $OUT/card.txt
B=/tmp/tb/new
cases=("b=1 hq=32 hk=32 d=128 lens=4096" "b=2 hq=32 hk=32 d=128 lens=4096,4096" "b=2 hq=32 hk=32 d=128 lens=16384,16384"
 "b=2 hq=32 hk=8 d=128 lens=16384,16384" "b=4 hq=32 hk=8 d=128 lens=16384,16384,16384,16384" "b=1 hq=64 hk=8 d=128 lens=16384"
 "b=1 hq=32 hk=1 d=128 lens=65536" "b=1 hq=32 hk=8 d=128 lens=65536" "b=1 hq=32 hk=32 d=128 lens=16384")
for rep in 1 2; do
  for cfg in none m0; do
    case $cfg in none) env=();; m0) env=(LEAN_MERGE_CARVEOUT=0);; esac
    i=0
    for c in "${cases[@]}"; do
      i=$((i+1))
      env "${env[@]}" $B/lean_bench --case "$c" --reps 50 --sweep-grid 132 --csv $OUT/c${i}_${cfg}_$rep.csv > $OUT/c${i}_${cfg}_$rep.log 2>&1 || echo "FAIL $c $cfg $rep"
    done
  done
done
python3 .carry/summ.py $OUT > $OUT/summary.txt
for cfg in none m0; do echo "== sweep $cfg"; cat $OUT/c*_${cfg}_*.log | grep "^sweep" | sort; done > $OUT/sweep.txt
(cd $OUT && tar czf raw.tgz *.log *.csv && rm -f *.log *.csv)
head -1 $OUT/summary.txt; grep stream-k $OUT/summary.txt
cat $OUT/sweep.txt
