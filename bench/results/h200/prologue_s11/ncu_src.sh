set -u
nvidia-smi --query-gpu=name --format=csv,noheader | grep -q "${WANT:-H}" || exit 3
mkdir -p /tmp/bin && tar xJf .carry/bin.tar.xz -C /tmp/bin
nvidia-smi --query-gpu=name,clocks.max.sm,clocks.max.mem --format=csv,noheader | tee $OUT/card.txt
W=/tmp/w; mkdir -p $W
for c in "lens=1024:hk=32" "lens=16384:hk=1"; do
  n=$(echo $c | tr ':=' '__')
  l=${c%%:*}; h=${c##*:}
  ncu --clock-control none --cache-control none -k regex:decode_kernel --launch-skip 30 --launch-count 3 \
    --section WarpStateStats --section SourceCounters --warp-sampling-interval 0 --warp-sampling-buffer-size 536870912 --warp-sampling-max-passes 50 \
    --import-source no -f -o $W/$n /tmp/bin/base/lean_bench --case "b=1 hq=32 $h d=128 $l" --reps 10 > $W/$n.log 2>&1
  tail -2 $W/$n.log
  ncu -i $W/$n.ncu-rep --page source --csv --print-source sass > $OUT/${n}_source.csv 2>$W/${n}_source.err
  tail -2 $W/${n}_source.err
done
gzip $OUT/*_source.csv; ls -la $OUT
