#!/usr/bin/env bash
# Session 10: per-CTA traces of small rows (MQA 16k in row blocks, MHA 1k, GQA 4k) and the d128 kernel's SASS
set -u
nvidia-smi --query-gpu=name --format=csv,noheader | grep -q "${WANT:-H}" || { nvidia-smi -L; exit 3; }
mkdir -p /tmp/bin && tar xJf .carry/bin.tar.xz -C /tmp/bin
nvidia-smi --query-gpu=name,clocks.max.sm,clocks.mem,driver_version --format=csv,noheader | tee $OUT/card.txt
i=0
for c in 'b=1 hq=32 hk=1 d=128 lens=16384' 'b=1 hq=32 hk=32 d=128 lens=1024' 'b=1 hq=32 hk=8 d=128 lens=4096' 'b=1 hq=32 hk=1 d=128 lens=131072'; do
  mkdir -p $OUT/tr$i
  /tmp/bin/lean_bench --case "$c" --reps 100 --trace-dir $OUT/tr$i 2>>$OUT/err.txt | grep -E "^b=" | tee -a $OUT/rows.txt
  i=$((i+1))
done
cuobjdump -sass -arch sm_90a /tmp/bin/liblean_cuda.so 2>/dev/null | awk '/Function : /{on=/decode_kernelILi128E6__halfLi1ELb0E/} on' > $OUT/sass_d128_m1.txt
cuobjdump -sass -arch sm_90a /tmp/bin/liblean_cuda.so 2>/dev/null | awk '/Function : /{on=/combine_kernelILi128E6__half/} on' > $OUT/sass_combine_d128.txt
wc -l $OUT/sass_*.txt
