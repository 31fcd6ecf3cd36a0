#!/usr/bin/env bash
# session 21, step 71: GPU tests of new/ (HEAD + the isolated merge kernel), then LEAN_ISOLATE_MERGE=0
# (the base behaviour) against the default on one machine, alternating, two repeats
set -u
nvidia-smi --query-gpu=name --format=csv,noheader | grep -q "${WANT:-H}" || { nvidia-smi -L; exit 3; }
mkdir -p /tmp/tb && tar xJf .carry/bin.tar.xz -C /tmp/tb
nvidia-smi --query-gpu=name,clocks.max.sm,clocks.max.mem --format=csv > $OUT/card.txt
bash bench/gpu_tests.sh /tmp/tb/new
grep -h "launch shapes equal" $OUT/tests_def.log >> $OUT/tests.txt
python3 .carry/sass_cmp.py /tmp/tb/base/liblean_cuda.so /tmp/tb/new/liblean_cuda.so | tee $OUT/sass_cmp.txt
B=/tmp/tb/new
for rep in 1 2; do
  for cfg in off on; do
    case $cfg in off) env=(LEAN_ISOLATE_MERGE=0);; on) env=();; esac
    for mat in small merge quick p16 p64; do
      case $mat in p16) a=(--matrix paged --page 16);; p64) a=(--matrix paged --page 64);; *) a=(--matrix $mat);; esac
      env "${env[@]}" $B/lean_bench "${a[@]}" --reps 50 --csv $OUT/${mat}_${cfg}_$rep.csv > $OUT/${mat}_${cfg}_$rep.log 2>&1 || echo "FAIL $mat $cfg $rep"
    done
  done
done
python3 .carry/summ.py $OUT > $OUT/summary.txt
(cd $OUT && tar czf raw.tgz *.log *.csv && rm -f *.log *.csv)
cat $OUT/tests.txt
head -1 $OUT/summary.txt; grep -E "stream-k|fixed" $OUT/summary.txt
