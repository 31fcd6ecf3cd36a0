#!/usr/bin/env bash
# session 19, step 69 (trial): the grid cost model on cards of <= 30 GB/s an SM counts an SM of one d128 CTA (64 KB in
# flight) as streaming at full rate (kSlowInflightNeed); against ebbea7e (base) on 33 problems whose H100 plans it
# changes (random, /tmp-generated; cases.txt), two alternating repeats, GPU tests of the new build first.
# the body it ran is now bench/ab_cases.sh
WANT=${WANT:-H100} exec bash bench/ab_cases.sh "$(dirname "$0")"
