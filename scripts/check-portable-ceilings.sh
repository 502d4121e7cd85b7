#!/usr/bin/env bash
# check-portable-ceilings.sh: a portable build (MARCH=-march=x86-64-v3) and the native build must
# report the same CPU ceilings: the same run-time paths (vector_isa, bf16_path: exact) and FLOP/s
# within noise. Builds both, runs `dlbench info` of each three times, alternating, and compares the
# best of each. (The *_how lines name the winner of the loop and the largest GEMM, which on a noisy
# machine can differ between two runs of one build, so they are shown, not compared.)
# Usage: scripts/check-portable-ceilings.sh [TOLERANCE_PERCENT (default 15)]. Exit 1 on a mismatch.
set -uo pipefail
cd "$(dirname "$0")/.."
tol=${1:-15}
make -s -j2 build/dlbench >/dev/null && make -s -j2 MARCH=-march=x86-64-v3 build/marchx86-64-v3/dlbench >/dev/null || exit 2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for i in 1 2 3; do
  build/dlbench info > "$tmp/native.$i" 2>&1
  build/marchx86-64-v3/dlbench info > "$tmp/portable.$i" 2>&1
done
# key value, the best (largest) of the runs for numbers
best() { awk -v k="$1" '$1 == k {print $2}' "$tmp/$2".1 "$tmp/$2".2 "$tmp/$2".3 | sort -g | tail -1; }
how() { awk -v k="$1" '$1 == k {$1 = ""; sub(/^ /, ""); print; exit}' "$tmp/$2".1; }
rc=0
for k in vector_isa bf16_path; do
  n=$(how $k native); p=$(how $k portable)
  printf '%s: native %s | portable %s\n' "$k" "${n:--}" "${p:--}"
  [ "$n" = "$p" ] || { echo "  MISMATCH: the two builds run different paths"; rc=1; }
done
for d in fp32 bf16; do
  n=$(best ${d}_gflops native); p=$(best ${d}_gflops portable)
  nh=$(how ${d}_how native); ph=$(how ${d}_how portable)
  printf '%s: native %s GFLOP/s (%s) | portable %s GFLOP/s (%s)\n' "$d" "${n:--}" "${nh:--}" "${p:--}" "${ph:--}"
  if [ -n "$n" ] && [ -n "$p" ]; then
    awk -v a="$n" -v b="$p" -v t="$tol" 'BEGIN { d = (a > b ? a - b : b - a) / (a > b ? a : b) * 100; exit d > t }' ||
      { echo "  MISMATCH: more than $tol% apart"; rc=1; }
  fi
done
exit $rc
