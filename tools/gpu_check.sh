#!/usr/bin/env bash
# GPU validation and first speed check for issue 3, in two steps:
#   tools/gpu_check.sh pack   on a Debian build machine (this repo's CI image): builds the CUDA
#                             tree with HDF5 linked statically and copies the binaries to .carry/
#   tools/gpu_check.sh run    on the GPU machine (needs only the NVIDIA driver, CUDA's
#                             compute-sanitizer and nvidia-smi): prints the card, runs every GPU
#                             test, memcheck and racecheck on small cases, our speed table and
#                             the peer benchmark (bench/peers.py, PyTorch in the same process);
#                             LEAN_MERGE_SWEEP=1 adds a merge fan-in x grid sweep; LEAN_TESTS=0
#                             skips the tests and sanitizers (binaries already tested on this card).
# GPU machines here have CUDA, CMake and PyTorch but no HDF5, Eigen or Catch2, so the binaries
# travel with everything they need linked in. Logs go to $OUT (default gpu-out/).
set -uo pipefail
cd "$(dirname "$0")/.."
case "${1:-run}" in
pack)
  bash tools/dev.sh deps
  cmake -S . -B build-gpu -G Ninja -DLEAN_CUDA=ON -DLEAN_STATIC_HDF5=ON >/dev/null && cmake --build build-gpu || exit 1
  rm -rf .carry && mkdir -p .carry
  cp build-gpu/tests/lean_tests_gpu build-gpu/lean_bench build-gpu/stream_probe build-gpu/lean build-gpu/liblean_cuda.so .carry/
  echo "packed: $(ls .carry | tr '\n' ' ')"
  ;;
run)
  OUT=${OUT:-gpu-out}
  mkdir -p "$OUT"
  BIN=${LEAN_BIN:-.carry}
  export LEAN_GOLDEN_DIR=golden/data
  status=0
  nvidia-smi --query-gpu=name,memory.total,clocks.sm,clocks.max.sm,clocks.mem,driver_version --format=csv | tee "$OUT/card.txt"
  # LEAN_TESTS=0: speed and peers only, for binaries whose tests already ran on this card
  if [ "${LEAN_TESTS:-1}" = 1 ]; then
  echo "== GPU tests"
  "$BIN/lean_tests_gpu" --durations yes >"$OUT/gpu_tests.log" 2>&1 || status=1
  tail -4 "$OUT/gpu_tests.log"
  # the card picks cp.async or tensor memory access for whole tiles; test the other way too
  for tma in 0 1; do
    echo "== GPU tests with LEAN_TMA=$tma"
    LEAN_TMA=$tma "$BIN/lean_tests_gpu" >"$OUT/gpu_tests_tma$tma.log" 2>&1 || status=1
    tail -2 "$OUT/gpu_tests_tma$tma.log"
  done
  echo "== compute-sanitizer on small cases"
  for tool in memcheck racecheck; do
    compute-sanitizer --tool $tool --error-exitcode 9 "$BIN/lean_tests_gpu" "[sanitize]" >"$OUT/sanitizer_$tool.log" 2>&1
    rc=$?
    echo "$tool: exit $rc, $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$OUT/sanitizer_$tool.log" | tail -1)"
    [ $rc -eq 0 ] || status=1
  done
  fi
  echo "== disassembly facts (d128 fp16 one m-tile, Variant::uniform: uniform contiguous batches, sm_90a)"
  if command -v cuobjdump >/dev/null; then
    cuobjdump -sass -arch sm_90a "$BIN/liblean_cuda.so" 2>/dev/null |
      awk '/Function : .*decode_kernelILi128E6__halfLi1ELNS0_7VariantE2E/{on=1;next} /Function :/{on=0} on' |
      grep -oE "HMMA\.[0-9A-Z.]+|LDGSTS[.A-Z0-9]*|UTMALDG[.A-Z0-9]*|SYNCS[.A-Z0-9]*|LDSM[.A-Z0-9]*|MUFU\.EX2|LDL[.A-Z0-9]*|STL[.A-Z0-9]*|RED[.A-Z0-9]*|ATOMG[.A-Z0-9]*|MEMBAR[.A-Z]*" |
      sort | uniq -c | tee "$OUT/sass_d128_fp16.txt"
    # a renamed kernel must not leave the facts silently empty (sessions 14-15 did)
    [ -s "$OUT/sass_d128_fp16.txt" ] || { echo "disassembly: no decode_kernel<128, __half, 1, uniform> in $BIN/liblean_cuda.so"; status=1; }
  else
    echo "disassembly: cuobjdump not found, facts not taken"
  fi
  if [ "${LEAN_MERGE_SWEEP:-0}" = 1 ]; then
    echo "== merge tree: fan-in x grid sweep (matrix 'merge', stream-K)"
    for f in ${LEAN_MERGE_FANINS:-auto 0 2 4 8 16 32}; do
      if [ $f = auto ]; then unset LEAN_MERGE_FANIN; else export LEAN_MERGE_FANIN=$f; fi
      "$BIN/lean_bench" --matrix merge --sweep-grid 32,64,96,132,198,264 >"$OUT/merge_f$f.txt" 2>&1 || status=1
      echo "fan-in $f: $(grep -c sweep "$OUT/merge_f$f.txt") sweep rows"
    done
    unset LEAN_MERGE_FANIN
  fi
  echo "== speed"
  mkdir -p "$OUT/traces"
  # LEAN_SWEEP_GRID=a,b,c also times stream-K at those grids (rows in bench_rows.log)
  "$BIN/lean_bench" --matrix "${LEAN_BENCH_MATRIX:-quick}" --csv "$OUT/bench.csv" --trace-dir "$OUT/traces" \
    ${LEAN_SWEEP_GRID:+--sweep-grid "$LEAN_SWEEP_GRID"} >"$OUT/bench.log" 2>"$OUT/bench_rows.log" || status=1
  tar czf "$OUT/traces.tgz" -C "$OUT" traces && rm -rf "$OUT/traces"
  cat "$OUT/bench.log"
  if [ "${LEAN_PEERS:-1}" = 1 ]; then
    echo "== peers (PyTorch SDPA cuDNN and flash, FlashInfer if importable)"
    python3 bench/peers.py --lib "$BIN/liblean_cuda.so" --out "$OUT" --matrix "${LEAN_PEERS_MATRIX:-full}" 2>"$OUT/peers_rows.log" || status=1
  fi
  exit $status
  ;;
*)
  echo "usage: tools/gpu_check.sh pack|run" >&2
  exit 2
  ;;
esac
