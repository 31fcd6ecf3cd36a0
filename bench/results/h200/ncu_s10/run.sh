#!/usr/bin/env bash
# Session 10: DRAM and L2 bytes of our decode kernel and cuDNN's for MQA 16k, MHA 1k, MQA 128k (ncu, cold caches)
set -u
nvidia-smi --query-gpu=name --format=csv,noheader | grep -q "${WANT:-H}" || { nvidia-smi -L; exit 3; }
mkdir -p /tmp/bin && tar xJf .carry/bin.tar.xz -C /tmp/bin
nvidia-smi --query-gpu=name,clocks.max.sm,clocks.mem,driver_version --format=csv,noheader | tee $OUT/card.txt
L=/tmp/bin/base/liblean_cuda.so; [ -f $L ] || L=/tmp/bin/liblean_cuda.so
M=gpu__time_duration.sum,dram__bytes_read.sum,dram__bytes_write.sum,lts__t_bytes.sum,lts__t_sectors_op_read.sum,lts__t_sector_op_read_hit_rate.pct,sm__cycles_active.avg
ncu --clock-control none --cache-control all -k regex:"decode_kernel|fprop|combine|lean_reduction" --metrics $M --csv \
  python3 .carry/ncu_rows.py $L > $OUT/ncu.csv 2> $OUT/ncu.err; echo "ncu rc=$?"
python3 - $OUT/ncu.csv <<'PY'
import csv, sys
rows = [r for r in csv.reader(open(sys.argv[1])) if len(r) > 10]
hdr = rows[0]; rows = rows[1:]
ki, mi, vi, ui = hdr.index("Kernel Name"), hdr.index("Metric Name"), hdr.index("Metric Value"), hdr.index("Metric Unit")
ii = hdr.index("ID")
cur = None
for r in rows:
    if r[ii] != cur:
        cur = r[ii]; print(f"-- {r[ii]} {r[ki][:70]}")
    print(f"     {r[mi]:45s} {r[vi]:>14s} {r[ui]}")
PY
tail -5 $OUT/ncu.err
