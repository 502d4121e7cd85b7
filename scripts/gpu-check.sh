#!/usr/bin/env bash
# gpu-check.sh: the one full check on a lent GPU machine, prepared here and run there.
#   scripts/gpu-check.sh prepare   here: portable build (x86-64-v3) and .devkit/lib of its libraries
#   scripts/gpu-check.sh run       there: info, make-test equivalent, compute-sanitizer on the CUDA
#                                  tests (memcheck, racecheck), the quick benchmark, and NCCL: the
#                                  collectives program on one GPU (and with mpirun and 2+ GPUs on all
#                                  of them, plus the collective and data-parallel rows); logs in $OUT
# The device call carries .devkit and build/marchx86-64-v3 and runs `scripts/gpu-check.sh run`.
set -uo pipefail
cd "$(dirname "$0")/.."
B=build/marchx86-64-v3
case "${1:-}" in
  prepare)
    mpi=(); command -v mpicc > /dev/null && mpi=("$B/dlbench-mpi-tests")   # MPI builds (harness/dist/dist.mk)
    make -j2 MARCH=-march=x86-64-v3 "$B/dlbench" "$B/dlbench-tests" "${mpi[@]}" || exit 1
    ../shared/tools/device-kit.sh "$B/dlbench" "$B/dlbench-tests" "${mpi[@]}"
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
    "$B/dlbench" run --suite quick --out "$out/run" --quiet > "$out/bench.log" 2>&1
    echo "bench: exit $?" | tee -a "$out/summary.txt"
    # NCCL: libnccl from the PyTorch wheel when the system has none. One GPU: a group of one rank
    # (dlopen, ncclGetUniqueId, ncclCommInitRank, the four operations fp32/bf16 at awkward counts,
    # gradient sums on the side stream), no launcher needed. 2+ GPUs and mpirun: all of them.
    if [ -x "$B/dlbench-mpi-tests" ]; then
      nccl=$(python3 -c 'import nvidia.nccl, os; print(os.path.join(list(nvidia.nccl.__path__)[0], "lib"))' 2>/dev/null) &&
        export LD_LIBRARY_PATH=$nccl:$LD_LIBRARY_PATH
      "$B/dlbench-mpi-tests" cuda > "$out/nccl-1gpu.tap" 2>&1
      echo "nccl, one GPU: exit $? ($(grep -c '^ok' "$out/nccl-1gpu.tap") ok, $(grep -c '^not ok' "$out/nccl-1gpu.tap") not ok; $(grep -m1 SKIP "$out/nccl-1gpu.tap"))" | tee -a "$out/summary.txt"
      ngpu=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU')
      if command -v mpirun > /dev/null && [ "$ngpu" -ge 2 ]; then
        export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
        mpirun -n "$ngpu" -x LD_LIBRARY_PATH "$B/dlbench-mpi-tests" cuda > "$out/nccl-${ngpu}gpu.tap" 2>&1
        echo "nccl, $ngpu GPUs: exit $?" | tee -a "$out/summary.txt"
        mpirun -n "$ngpu" -x LD_LIBRARY_PATH "$B/dlbench" run --suite quick --backend cuda --no-ceilings \
          --workload allreduce,allgather,reducescatter,broadcast,dp-train --out "$out/run-$ngpu-gpus" --quiet > "$out/bench-ranks.log" 2>&1
        echo "bench, $ngpu ranks: exit $?" | tee -a "$out/summary.txt"
      fi
    fi
    tail -1 "$out/test.log" | tee -a "$out/summary.txt"
    ;;
  *) echo "usage: scripts/gpu-check.sh prepare|run" >&2; exit 2 ;;
esac
