#!/usr/bin/env bash
# Session 10 A/Bs at 6258128 (same binary, env switches): in-kernel merge (LEAN_SEPARATE_MERGE=0)
# against the merge kernel on latency-bound and 268 MB rows; MQA row blocks (LEAN_ROW_SPLIT=2) at 128k, 512k
set -u
mkdir -p /tmp/bin && tar xJf .carry/bin.tar.xz -C /tmp/bin
nvidia-smi --query-gpu=name,clocks.max.sm,clocks.mem,driver_version --format=csv,noheader | tee $OUT/card.txt
B=/tmp/bin/lean_bench
for rep in 1 2 3; do
  for v in sep inkernel; do
    if [ $v = inkernel ]; then export LEAN_SEPARATE_MERGE=0; else unset LEAN_SEPARATE_MERGE; fi
    echo "== $v rep$rep" >> $OUT/merge_ab.txt
    $B --matrix small --reps 200 2>>$OUT/err.txt | grep -E "^b=" >> $OUT/merge_ab.txt
    for c in 'b=1 hq=32 hk=32 d=128 lens=16384' 'b=1 hq=32 hk=8 d=128 lens=65536'; do
      $B --case "$c" --reps 200 2>>$OUT/err.txt | grep -E "^b=" >> $OUT/merge_ab.txt
    done
  done
  unset LEAN_SEPARATE_MERGE
  for v in 1 2; do
    echo "== row_split=$v rep$rep" >> $OUT/mqa_ab.txt
    for c in 'b=1 hq=32 hk=1 d=128 lens=131072' 'b=1 hq=32 hk=1 d=128 lens=524288' 'b=1 hq=32 hk=1 d=128 lens=65536'; do
      LEAN_ROW_SPLIT=$v $B --case "$c" --reps 200 2>>$OUT/err.txt | grep -E "^b=" >> $OUT/mqa_ab.txt
    done
  done
done
cat $OUT/merge_ab.txt $OUT/mqa_ab.txt | cut -c1-100
