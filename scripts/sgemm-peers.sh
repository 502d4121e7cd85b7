#!/usr/bin/env bash
# sgemm-peers.sh [-t THREADS,...] [M N K [TA TB]]: dlbench's own sgemm kernel (AVX-512, else AVX2) against OpenBLAS
# (the core dlbench chooses, from `dlbench info`) and MKL where MKL_RT names a libmkl_rt.so (e.g.
# `python3 -m venv /tmp/mklenv && /tmp/mklenv/bin/pip install mkl`, then
# MKL_RT=/tmp/mklenv/lib/libmkl_rt.so.3), call by call, at each thread count (default 1 and the
# cores). The figures in cpu/gemm_avx512_cpu.c's and gemm_avx2_cpu.c's headers come from this. Default
# shape 2048³. Env KC, ISA: see sgemm-peers.c.
set -euo pipefail
cd "$(dirname "$0")/.."
threads=""
if [ "${1:-}" = "-t" ]; then threads=${2:?-t needs a list}; shift 2; fi
[ $# -eq 0 ] && set -- 2048 2048 2048
OBLAS_DIR=${OBLAS_DIR:-/usr/lib/x86_64-linux-gnu/openblas-openmp}
bin=build/sgemm-peers
mkdir -p build
gcc -std=c11 -O3 -march=native -fopenmp -D_GNU_SOURCE -I/usr/include/x86_64-linux-gnu/openblas-openmp -Icpu -Ikernels -Iharness -Iharness/measure -Iharness/workloads \
  scripts/sgemm-peers.c cpu/gemm_own_cpu.c cpu/gemm_avx512_cpu.c cpu/gemm_avx2_cpu.c cpu/scratch_cpu.c -o "$bin" -L"$OBLAS_DIR" -Wl,-rpath,"$OBLAS_DIR" -lopenblas -ldl -lm
if [ -z "${OPENBLAS_CORETYPE:-}" ] && [ -x build/dlbench ]; then
  core=$(build/dlbench info 2>/dev/null | awk '$1 == "openblas_core" {print $2; exit}')
  [ -n "$core" ] && export OPENBLAS_CORETYPE=$core
fi
export MKL_THREADING_LAYER=${MKL_THREADING_LAYER:-GNU} OMP_PLACES=${OMP_PLACES:-cores} OMP_PROC_BIND=${OMP_PROC_BIND:-close}
[ -n "$threads" ] || threads=1,$(nproc)
for t in ${threads//,/ }; do
  OMP_NUM_THREADS=$t "$bin" "$@"
done
