#!/usr/bin/env bash
# session 19: the full run of ../final_621be41/run.sh (tools/gpu_check.sh, LEAN_TESTS=0) on the binaries in .carry
# Ran as: WANT=H100 COMMIT=ebbea7e+step69 bash bench/results/h100/final_621be41/run.sh
exec bash "$(dirname "$0")/../final_621be41/run.sh"
