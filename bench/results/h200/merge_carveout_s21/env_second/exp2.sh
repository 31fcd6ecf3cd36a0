#!/usr/bin/env bash
# session 21: carveout experiment, second pass: which of the two attributes, over more rows
set -u
mkdir -p /tmp/tb && tar xJf .carry/bin.tar.xz -C /tmp/tb
nvidia-smi --query-gpu=name,clocks.max.sm,clocks.max.mem --format=csv > $OUT/card.txt
B=/tmp/tb/new
for rep in 1 2; do
  for cfg in none m0 d100 m0d100; do
    case $cfg in
      none) env=();;
      m0) env=(LEAN_MERGE_CARVEOUT=0);;
      d100) env=(LEAN_DECODE_CARVEOUT=100);;
      m0d100) env=(LEAN_MERGE_CARVEOUT=0 LEAN_DECODE_CARVEOUT=100);;
    esac
    for mat in small merge quick p16 p64; do
      case $mat in p16) a=(--matrix paged --page 16);; p64) a=(--matrix paged --page 64);; *) a=(--matrix $mat);; esac
      env "${env[@]}" $B/lean_bench "${a[@]}" --reps 50 --csv $OUT/${mat}_${cfg}_$rep.csv > $OUT/${mat}_${cfg}_$rep.log 2>&1 || echo "FAIL $mat $cfg $rep"
    done
  done
done
python3 .carry/summ.py $OUT > $OUT/summary.txt
(cd $OUT && tar czf raw.tgz *.log *.csv && rm -f *.log *.csv)
cat $OUT/summary.txt | grep stream-k
