#!/usr/bin/env bash
# session 19, step 69 (second form): 65 KB for an SM of one d128 CTA on cards of <= 30 GB/s an SM, for more
# than one unit (kSlowInflightNeed); against ebbea7e (base) on the first trial's 33 problems and 8 more whose
# H100 plans it changes (cases.txt), two alternating repeats, GPU tests of the new build first.
# the body it ran is now bench/ab_cases.sh
WANT=${WANT:-H100} exec bash bench/ab_cases.sh "$(dirname "$0")"
