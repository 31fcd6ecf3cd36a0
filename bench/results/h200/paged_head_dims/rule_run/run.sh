#!/usr/bin/env bash
# H200: small pages at head dims 64 and 256 by cp.async (the new prefer_tensor_loads), grid sweeps; GPU tests
set -u
mkdir -p /tmp/bin && tar xJf .carry/bin.tar.xz -C /tmp/bin
B=/tmp/bin/lean_bench
nvidia-smi --query-gpu=name,clocks.max.sm,clocks.mem,driver_version --format=csv,noheader | tee $OUT/card.txt
nvidia-smi --query-gpu=name --format=csv,noheader | grep -q H200 || { echo "not an H200"; exit 3; }
for c in "b=1 hq=64 hk=64 d=64 lens=65536" "b=8 hq=32 hk=8 d=64 lens=16384"; do
  for pg in 16 32; do
    $B --case "$c" --page $pg --reps 100 --sweep-grid 256,264,396 >> $OUT/sweep.txt 2>&1
  done
done
for c in "b=1 hq=16 hk=16 d=256 lens=65536" "b=8 hq=16 hk=4 d=256 lens=16384"; do
  for pg in 16 32; do
    $B --case "$c" --page $pg --reps 100 --sweep-grid 128,132 >> $OUT/sweep.txt 2>&1
  done
done
$B --case "b=8 hq=32 hk=8 d=128 lens=16384" --page 16 --reps 100 >> $OUT/sweep.txt 2>&1
grep -E "^sweep|stream-k +[0-9]+ CTAs" $OUT/sweep.txt
/tmp/bin/lean_tests_gpu > $OUT/gpu_tests.log 2>&1; echo "gpu tests rc=$?"; tail -3 $OUT/gpu_tests.log
