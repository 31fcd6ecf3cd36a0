set -u
nvidia-smi --query-gpu=name --format=csv,noheader | grep -q "${WANT:-H}" || exit 3
mkdir -p /tmp/bin && tar xJf .carry/bin.tar.xz -C /tmp/bin
( /tmp/bin/lean_tests_gpu > /tmp/t0.log 2>&1; echo "tests default rc=$? $(tail -2 /tmp/t0.log | head -1)"; LEAN_TMA=0 /tmp/bin/lean_tests_gpu > /tmp/t1.log 2>&1; echo "tests tma0 rc=$? $(tail -2 /tmp/t1.log | head -1)"
  for tool in memcheck racecheck; do timeout 150 compute-sanitizer --tool $tool --error-exitcode 9 /tmp/bin/lean_tests_gpu "[sanitize]" > /tmp/s_$tool.log 2>&1; echo "$tool rc=$? $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' /tmp/s_$tool.log | tail -1)"; done ) | tee $OUT/tests.txt
VS="base q" bash .carry/ab4.sh
