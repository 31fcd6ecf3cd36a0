#!/usr/bin/env bash
# session 15: SASS facts of the final binary's d128 fp16 one-m-tile decode kernels (uniform, general)
mkdir -p /tmp/bin && tar xJf .carry/bin.tar.xz -C /tmp/bin
nvidia-smi --query-gpu=name --format=csv,noheader
for v in 2 0; do
  echo "== Variant $v"
  cuobjdump -sass -arch sm_90a /tmp/bin/new/liblean_cuda.so 2>/dev/null |
    awk -v pat="decode_kernelILi128E6__halfLi1ELNS0_7VariantE${v}E" '$0 ~ "Function : .*" pat {on=1;next} /Function :/{on=0} on' > $OUT/sass_v$v.txt
  wc -l < $OUT/sass_v$v.txt
  grep -oE "HMMA\.[0-9A-Z.]+|LDGSTS[.A-Z0-9]*|UTMALDG[.A-Z0-9]*|SYNCS[.A-Z0-9]*|LDSM[.A-Z0-9]*|MUFU\.EX2|LDL[.A-Z0-9]*|STL[.A-Z0-9]*|RED[.A-Z0-9]*|ATOMG[.A-Z0-9]*|MEMBAR[.A-Z]*" $OUT/sass_v$v.txt | sort | uniq -c | tee $OUT/facts_v$v.txt
  gzip -9 $OUT/sass_v$v.txt
done
