#!/usr/bin/env bash
# session 18: ../../h100/audit_s18/run.sh (the same 40 problems) on an H200 with b63d9a0's build
WANT=H200 exec bash "$(dirname "$0")/../../h100/audit_s18/run.sh"
