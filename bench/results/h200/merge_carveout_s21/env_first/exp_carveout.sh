#!/usr/bin/env bash
# session 21: GPU tests of HEAD's build (base/), then the carveout experiment on new/ (env-gated)
set -u
mkdir -p /tmp/tb && tar xJf .carry/bin.tar.xz -C /tmp/tb
nvidia-smi --query-gpu=name,clocks.max.sm,clocks.max.mem --format=csv > $OUT/card.txt
bash bench/gpu_tests.sh /tmp/tb/base
grep -h "launch shapes equal" $OUT/tests_def.log >> $OUT/tests.txt
B=/tmp/tb/new
for rep in 1 2; do
  for cfg in none m100 m100d100 m0d100; do
    case $cfg in
      none) env=();;
      m100) env=(LEAN_MERGE_CARVEOUT=100);;
      m100d100) env=(LEAN_MERGE_CARVEOUT=100 LEAN_DECODE_CARVEOUT=100);;
      m0d100) env=(LEAN_MERGE_CARVEOUT=0 LEAN_DECODE_CARVEOUT=100);;
    esac
    for mat in small merge; do
      env "${env[@]}" $B/lean_bench --matrix $mat --reps 50 --csv $OUT/${mat}_${cfg}_$rep.csv > $OUT/${mat}_${cfg}_$rep.log 2>&1 || echo "FAIL $mat $cfg $rep"
    done
  done
done
python3 .carry/summ.py $OUT > $OUT/summary.txt
(cd $OUT && tar czf raw.tgz *.log *.csv && rm -f *.log *.csv)
cat $OUT/tests.txt
cat $OUT/summary.txt
