#!/usr/bin/env bash
# bench-compare.sh DLBENCH BASE OUT [RUN OPTIONS...]: one run of this build into OUT, compared with
# BASE (a run folder, or a baseline folder with a noise model); compare's report also goes to
# OUT/compare.md. Exits with compare's own status: 0 no regression, 1 regression(s) or rows gone,
# 2 bad input or different hardware (130 interrupted). `make bench-compare` runs this script, but
# GNU make exits 2 whenever a recipe fails: CI that must tell 1 from 2 calls the script itself.
set -uo pipefail
bin=$1 base=$2 out=$3
shift 3
if [ -z "$base" ]; then
  echo "usage: make bench-compare BASE=<run or baseline folder>  (or scripts/bench-compare.sh DLBENCH BASE OUT [run options])" >&2
  exit 2
fi
# Checked before a run of minutes; compare checks again.
if [ ! -f "$base/system.json" ] && [ ! -f "$(dirname "$base")/system.json" ]; then
  if [ -e "$base" ]; then echo "dlbench: compare: $base is not a dlbench run folder (no system.json)" >&2
  else echo "dlbench: compare: $base does not exist" >&2; fi
  exit 2
fi
rm -rf "$out"
"$bin" run --out "$out" "$@"
rc=$?
case $rc in
  0|1) ;;              # 1: a case failed; compare reports its row as gone
  130) exit 130 ;;
  *) exit 2 ;;
esac
"$bin" compare "$base" "$out" | tee "$out/compare.md"
exit "${PIPESTATUS[0]}"
