#!/usr/bin/env bash
# session 18: ../audit_s18/run.sh (the same 40 problems) on b63d9a0's build, after steps 65 and 66
exec bash "$(dirname "$0")/../audit_s18/run.sh"
