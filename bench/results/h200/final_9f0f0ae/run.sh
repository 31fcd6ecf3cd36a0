#!/usr/bin/env bash
# Session 21: the full run (tools/gpu_check.sh with LEAN_TESTS=0) of the build of 9f0f0ae in
# .carry/bin.tar.xz (new/), on the machine that had just run that build's GPU tests
# (../isolate_merge_s21/). Ran as: WANT=<card> COMMIT=9f0f0ae LIMIT_S=560 bash bench/results/h100/final_621be41/run.sh
# (the H100's call passed COMMIT=step71-worktree: the same binaries, built before the commit)
exec bash bench/results/h100/final_621be41/run.sh
