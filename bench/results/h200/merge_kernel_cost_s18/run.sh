#!/usr/bin/env bash
# session 18: ../../h100/merge_kernel_cost_s18/run.sh on an H200 (same binaries and cases; GPU tests off
# unless TESTS=1: the H100 run tests the same build)
WANT=H200 TESTS=${TESTS:-0} exec bash "$(dirname "$0")/../../h100/merge_kernel_cost_s18/run.sh"
