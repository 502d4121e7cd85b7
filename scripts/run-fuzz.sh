#!/usr/bin/env bash
# run-fuzz.sh SECONDS TARGET...: `make fuzz`'s runner. Each target (build/fuzz/TARGET, libFuzzer)
# first replays the crashing inputs kept in tests/fuzz/regressions/TARGET/, then fuzzes for SECONDS
# from its seeds (tests/fuzz/seeds/TARGET/) and its growing corpus (build/fuzz/corpus-TARGET/); a new
# crash is saved under regressions/ for the next run to replay. libFuzzer runs on one core, so the
# targets run FUZZ_JOBS at a time (default: the cores; CI's 2 cores: 7 targets × 10 s in ~45 s, not
# 80). Prints each target's stats in order; exit 1 with the failing log's tail if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:?usage: run-fuzz.sh SECONDS TARGET...}; shift
jobs=${FUZZ_JOBS:-$(nproc)}
one() {
  local t=$1 secs=$2 log=build/fuzz/$1.log
  mkdir -p "build/fuzz/corpus-$t" "tests/fuzz/regressions/$t"
  {
    if [ -n "$(ls "tests/fuzz/regressions/$t")" ]; then "build/fuzz/$t" "tests/fuzz/regressions/$t"/* || exit 1; fi
    "build/fuzz/$t" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="tests/fuzz/regressions/$t/" \
      "build/fuzz/corpus-$t" "tests/fuzz/seeds/$t"
  } > "$log" 2>&1
}
export -f one
printf '%s\n' "$@" | xargs -P "$jobs" -I{} bash -c 'one "$1" "$2" || touch "build/fuzz/$1.failed"' _ {} "$secs"
rc=0
for t in "$@"; do
  echo "== fuzz $t for $secs s"
  if [ -e "build/fuzz/$t.failed" ]; then
    rm -f "build/fuzz/$t.failed"; tail -40 "build/fuzz/$t.log"; rc=1
  else
    grep -E 'stat::number_of_executed_units|Done' "build/fuzz/$t.log"
  fi
done
exit $rc
