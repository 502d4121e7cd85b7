#!/usr/bin/env bash
# check-portable-ceilings.sh: a portable build (MARCH=-march=x86-64-v3) and the native build must
# report the same CPU ceilings: the same loop paths (exact) and FLOP/s within noise. Builds both,
# runs `dlbench info` of each twice, alternating, and compares the best of each.
# Usage: scripts/check-portable-ceilings.sh [TOLERANCE_PERCENT (default 15)]. Exit 1 on a mismatch.
set -uo pipefail
cd "$(dirname "$0")/.."
tol=${1:-15}
make -s -j2 build/dlbench >/dev/null && make -s -j2 MARCH=-march=x86-64-v3 build/marchx86-64-v3/dlbench >/dev/null || exit 2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for i in 1 2; do
  build/dlbench info > "$tmp/native.$i" 2>&1
  build/marchx86-64-v3/dlbench info > "$tmp/portable.$i" 2>&1
done
# key value, the best (largest) of the two runs for numbers
best() { awk -v k="$1" '$1 == k {print $2}' "$tmp/$2".1 "$tmp/$2".2 | sort -g | tail -1; }
how() { awk -v k="$1" '$1 == k {$1 = ""; sub(/^ /, ""); print; exit}' "$tmp/$2".1; }
rc=0
for d in fp32 bf16; do
  n=$(best ${d}_gflops native); p=$(best ${d}_gflops portable)
  nh=$(how ${d}_how native); ph=$(how ${d}_how portable)
  printf '%s: native %s GFLOP/s (%s) | portable %s GFLOP/s (%s)\n' "$d" "${n:--}" "${nh:--}" "${p:--}" "${ph:--}"
  [ "$nh" = "$ph" ] || { echo "  MISMATCH: the two builds measured different paths"; rc=1; }
  if [ -n "$n" ] && [ -n "$p" ]; then
    awk -v a="$n" -v b="$p" -v t="$tol" 'BEGIN { d = (a > b ? a - b : b - a) / (a > b ? a : b) * 100; exit d > t }' ||
      { echo "  MISMATCH: more than $tol% apart"; rc=1; }
  fi
done
exit $rc
