#!/usr/bin/env bash
# session 19, step 68: head dim 256 groups of 17-64 in blocks of at most 16 query heads where they
# run in step, against the build before it (base: choose_launch_shape with min_row_split); 15 cases,
# two alternating repeats, the new build's GPU tests first. Usage: WANT=H100|H200 bash run.sh
# the body it ran is now bench/ab_cases.sh
WANT=${WANT:-H200} exec bash bench/ab_cases.sh "$(dirname "$0")"
