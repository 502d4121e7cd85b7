#!/usr/bin/env bash
# gpu-check.sh: the one full check on a lent GPU machine, prepared here and run there.
#   scripts/gpu-check.sh prepare   here: portable build (x86-64-v3) and .devkit/lib of its libraries
#   scripts/gpu-check.sh run       there: info, make-test equivalent, compute-sanitizer on the CUDA
#                                  tests (memcheck, racecheck), and the quick benchmark timed, with
#                                  its wall time per workload and the accuracy of its ETA; logs in
#                                  $OUT, the run folder in $OUT/run (a baseline for results/baselines/)
# The device call carries .devkit and build/marchx86-64-v3 and runs `scripts/gpu-check.sh run`.
set -uo pipefail
cd "$(dirname "$0")/.."
B=build/marchx86-64-v3
case "${1:-}" in
  prepare)
    make -j2 MARCH=-march=x86-64-v3 "$B/dlbench" "$B/dlbench-tests" || exit 1
    ../shared/tools/device-kit.sh "$B/dlbench" "$B/dlbench-tests"
    ;;
  run)
    out=${OUT:-/tmp/gpu-check}; mkdir -p "$out"
    export LD_LIBRARY_PATH=$PWD/.devkit/lib:${LD_LIBRARY_PATH:-}
    export DLBENCH_BIN=$PWD/$B/dlbench DLBENCH_PRICES=$PWD/bench/prices.csv
    nvidia-smi > "$out/nvidia-smi.txt" 2>&1
    "$B/dlbench" info > "$out/info.txt" 2>&1
    scripts/run-tests.sh "$B/dlbench-tests" > "$out/test.log" 2>&1; echo "tests: exit $?" | tee -a "$out/summary.txt"
    for tool in memcheck racecheck; do
      compute-sanitizer --tool $tool --error-exitcode 3 "$B/dlbench-tests" --filter='cuda_*/*' -j1 \
        > "$out/sanitizer-$tool.log" 2>&1
      echo "compute-sanitizer $tool: exit $?" | tee -a "$out/summary.txt"
    done
    t0=$(date +%s.%N)
    "$B/dlbench" run --suite quick --out "$out/run" > "$out/bench.log" 2>&1
    rc=$?
    echo "bench: exit $rc, $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s wall (goal: <= 120 s)" | tee -a "$out/summary.txt"
    grep -m1 'rows planned' "$out/bench.log" | tee -a "$out/summary.txt"
    python3 scripts/run-breakdown.py "$out/run" "$out/bench.log" > "$out/breakdown.md" 2>&1
    tail -1 "$out/breakdown.md" | tee -a "$out/summary.txt"
    # The report pairs real GPU rows with CPU rows (harness/output/metrics.c): one geomean per family.
    echo "report: GPU/CPU geomean in $(grep -cE '^\| [a-z_]+ \| [0-9.]+× \| [0-9]+ \|' "$out/run/report.md" 2>/dev/null) headline families" \
      | tee -a "$out/summary.txt"
    head -30 "$out/run/report.md" > "$out/report-first-30-lines.md"   # the answer, as a buyer reads it
    tail -1 "$out/test.log" | tee -a "$out/summary.txt"
    ;;
  *) echo "usage: scripts/gpu-check.sh prepare|run" >&2; exit 2 ;;
esac
