#!/usr/bin/env bash
# session 19: on one H200, the GPU tests of the binaries in .carry (new/: 6a0f055's code) in three
# load modes with memcheck and racecheck (bench/gpu_tests.sh; logs in tests.tgz), then the full run
# of ../../h100/final_621be41/run.sh (tools/gpu_check.sh, LEAN_TESTS=0) on the same machine.
# Ran as: WANT=H200 COMMIT=6a0f055 bash bench/results/h200/final_6a0f055/run.sh
set -u
nvidia-smi --query-gpu=name --format=csv,noheader | grep -q "${WANT:-H}" || { nvidia-smi -L; exit 3; }
mkdir -p /tmp/tb && tar xJf .carry/bin.tar.xz -C /tmp/tb
bash bench/gpu_tests.sh /tmp/tb/new
grep -h "launch shapes equal" $OUT/tests_def.log | tee -a $OUT/tests.txt
(cd $OUT && tar czf tests.tgz tests_*.log san_*.log && rm -f tests_*.log san_*.log)
bash bench/results/h100/final_621be41/run.sh
