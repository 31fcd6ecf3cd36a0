#!/usr/bin/env bash
# Session 17: ../final_621be41/run.sh, run unchanged on 64df03f's build in .carry/bin.tar.xz (new/).
# Its GPU tests and sanitizers ran on an H100 the same session on the same binaries
# (../even_ranges_s17/pairs_by_kv_head/tests.txt), so LEAN_TESTS=0 there.
# Ran as: WANT=H100 COMMIT=64df03f bash run.sh
exec bash "$(dirname "$0")/../final_621be41/run.sh"
