#!/usr/bin/env bash
# session 18, step 66: ../../h100/whole_units_s18/run.sh on an H200 (same binaries and cases)
WANT=H200 exec bash "$(dirname "$0")/../../h100/whole_units_s18/run.sh"
