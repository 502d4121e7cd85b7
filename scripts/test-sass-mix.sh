#!/usr/bin/env bash
# test-sass-mix.sh: scripts/sass-mix.py on a fixed cuobjdump listing (tests/fixtures/sass/toy.sass:
# a kernel whose loop 0x10..0x70 holds 7 instructions, 2 HMMA (one predicated), 1 LDSM, 1 LDGSTS,
# 1 local load, with an HMMA after the loop; a kernel without HMMA), so the counts it reports are
# checked where no cuobjdump exists (CI); and its bad-input exits.
set -uo pipefail
cd "$(dirname "$0")/.."
tool=scripts/sass-mix.py fx=tests/fixtures/sass/toy.sass
command -v python3 > /dev/null || { echo "test-sass-mix: skipped: no python3 on PATH"; exit 0; }
pass=0 fail=0
check() {   # check NAME EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "test-sass-mix: $1: expected '$2', got '$3'" >&2; fi
}
check "csv row" '"toy_mma<bf16,64,2>",7,2,1,1,1,2.50' "$($tool --sass "$fx" --csv | sed -n 2p)"
check "one kernel with HMMA" 2 "$($tool --sass "$fx" --csv | wc -l | tr -d ' ')"
check "table row" "toy_mma<bf16,64,2>     7     2     1      1      1       2.50" "$($tool --sass "$fx" | sed -n 2p)"
$tool --sass "$fx" --filter copy > /dev/null 2>&1; check "no kernel with HMMA matches: exit" 2 $?
$tool --sass tests/fixtures/sass/missing.sass > /dev/null 2>&1; check "missing file: exit" 2 $?
$tool --sass README.md > /dev/null 2>&1; check "not a listing: exit" 2 $?
$tool > /dev/null 2>&1; check "no input: exit" 2 $?
echo "test-sass-mix: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
