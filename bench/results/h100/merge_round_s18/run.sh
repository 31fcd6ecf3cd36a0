#!/usr/bin/env bash
# session 18, step 65: ../../h200/merge_round_s18/run.sh on an H100 (same binaries, same cases)
WANT=H100 exec bash "$(dirname "$0")/../../h200/merge_round_s18/run.sh"
