#!/usr/bin/env bash
# session 18: ../../h100/grid_even_s18/run.sh on an H200 (same binaries, same cases)
WANT=H200 exec bash "$(dirname "$0")/../../h100/grid_even_s18/run.sh"
