#!/usr/bin/env bash
# Session 18: ../../h100/final_621be41/run.sh, run unchanged on f49d157's build in .carry/bin.tar.xz (new/).
# Its GPU tests and sanitizers ran on an H200 the same session on the same binaries, minutes before on
# the same machine (../grid_even_s18/tests.txt), so LEAN_TESTS=0 there.
# Ran as: WANT=H200 COMMIT=f49d157 bash run.sh
exec bash "$(dirname "$0")/../../h100/final_621be41/run.sh"
