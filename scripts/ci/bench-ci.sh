#!/usr/bin/env bash
# bench-ci.sh: the benchmark step of CI, one script for GitHub Actions and GitLab CI (and a shell):
# run the suite and compare it with a committed baseline, or run an interleaved A/B against a base
# revision, or refresh a baseline. The exit status is the CI verdict; nothing is piped, so no
# status is lost to `tee`.
#
#   scripts/ci/bench-ci.sh compare BASELINE [NEW]  run the suite into $CI_OUT/run (or take the run
#                                                  folder NEW) and compare it with BASELINE, a run
#                                                  folder committed under results/baselines/<class>/
#   scripts/ci/bench-ci.sh ab BASE_REV             dlbench ab: the base revision and this tree built
#                                                  side by side and run alternately on this machine
#   scripts/ci/bench-ci.sh baseline DIR            run the suite into DIR, replacing it, and again
#                                                  BASELINE_RUNS-1 times for its noise model (then commit DIR)
#
# Environment: DLBENCH (the binary; default build/dlbench), DLBENCH_ARGS (run options; default
# "--suite quick --quiet"), COMPARE_ARGS (e.g. "--threshold 10"), AB_ARGS, CI_OUT (default build/ci),
# BASELINE_RUNS (default 5: a baseline is that many runs, their spread kept in its noise.csv).
# Writes $CI_OUT/compare.md (also appended to $GITHUB_STEP_SUMMARY when set).
#
# Exit: 0 no regression; 1 a regression, rows that vanished (measured in the baseline, missing,
# skipped or failed now), or a case that failed its check; 2 bad input, different hardware, no
# baseline, or the benchmark could not run. These are `dlbench compare`'s own codes, passed through.
set -uo pipefail

die() { echo "bench-ci: $*" >&2; exit 2; }
usage() { sed -n '2,24s/^# \{0,1\}//p' "$0"; }

DLBENCH=${DLBENCH:-build/dlbench}
DLBENCH_ARGS=${DLBENCH_ARGS:---suite quick --quiet}
COMPARE_ARGS=${COMPARE_ARGS:-}
AB_ARGS=${AB_ARGS:-}
CI_OUT=${CI_OUT:-build/ci}
BASELINE_RUNS=${BASELINE_RUNS:-5}
[[ $BASELINE_RUNS =~ ^[1-9][0-9]*$ ]] || { echo "bench-ci: BASELINE_RUNS must be a positive number" >&2; exit 2; }

# Words of an options string (no globbing: a --filter 'gemm/*' stays a pattern).
words() { local -n out=$1; set -f; out=($2); set +f; }

# The comparison's Markdown (and its errors, quoted), shown in the log and on the job's summary page.
publish() {
  if [ -s "$CI_OUT/compare.err" ]; then
    cat "$CI_OUT/compare.err" >&2
    sed 's/^/> /' "$CI_OUT/compare.err" >> "$CI_OUT/compare.md"
  fi
  cat "$CI_OUT/compare.md"
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then cat "$CI_OUT/compare.md" >> "$GITHUB_STEP_SUMMARY"; fi
}

# run DIR: the suite into DIR (which must not exist); returns dlbench run's status.
run_suite() {
  local run_args
  words run_args "$DLBENCH_ARGS"
  echo "bench-ci: $DLBENCH run ${run_args[*]} --out $1" >&2
  "$DLBENCH" run "${run_args[@]}" --out "$1"
}

mode_compare() {
  local base=${1:-} new=${2:-} run_rc=0 rc compare_args
  [ -n "$base" ] || die "compare needs the baseline folder (results/baselines/<machine class>)"
  if [ ! -f "$base/system.json" ]; then
    die "no baseline at '$base' (no system.json): create one on this machine class with
  scripts/ci/bench-ci.sh baseline $base
and commit it"
  fi
  if [ -z "$new" ]; then
    new=$CI_OUT/run
    rm -rf "$new"
    run_suite "$new"
    run_rc=$?
    case $run_rc in
      0|1) ;;   # 1: a case failed its check; the comparison still runs and says what vanished
      *) die "the benchmark did not complete (dlbench run exited $run_rc)";;
    esac
  fi
  words compare_args "$COMPARE_ARGS"
  "$DLBENCH" compare "${compare_args[@]}" "$base" "$new" > "$CI_OUT/compare.md" 2> "$CI_OUT/compare.err"
  rc=$?
  publish
  case $rc in
    0) if [ "$run_rc" -eq 1 ]; then echo "bench-ci: FAIL: a case failed its check (see $new/report.md)" >&2; return 1; fi
       echo "bench-ci: ok: no regression against $base" >&2; return 0;;
    1) echo "bench-ci: FAIL: regression or vanished rows against $base (see compare.md)" >&2; return 1;;
    *) echo "bench-ci: FAIL: cannot compare (exit $rc): bad input or different hardware; a baseline belongs to one machine class" >&2
       return 2;;
  esac
}

mode_ab() {
  local rev=${1:-} rc ab_args
  [ -n "$rev" ] || die "ab needs the base revision (e.g. origin/main)"
  words ab_args "$AB_ARGS"
  "$DLBENCH" ab "${ab_args[@]}" "$rev" > "$CI_OUT/compare.md" 2> "$CI_OUT/compare.err"
  rc=$?
  publish
  case $rc in
    0) echo "bench-ci: ok: no regression against $rev" >&2;;
    1) echo "bench-ci: FAIL: regression or vanished rows against $rev" >&2;;
    *) echo "bench-ci: FAIL: the A/B did not run (exit $rc)" >&2; rc=2;;
  esac
  return "$rc"
}

mode_baseline() {
  local dir=${1:-} rc tmp i runs
  [ -n "$dir" ] || die "baseline needs the folder to write (results/baselines/<machine class>)"
  tmp=$CI_OUT/baseline-new
  rm -rf "$tmp" "$tmp.runs"
  run_suite "$tmp"
  rc=$?
  [ "$rc" -eq 0 ] || die "the baseline run did not complete cleanly (dlbench run exited $rc); $dir left as it was"
  # The spread between repeated runs goes with the baseline (noise.csv), so that compare can judge
  # one new run against it instead of assuming one.
  runs=("$tmp")
  for ((i = 2; i <= BASELINE_RUNS; i++)); do
    run_suite "$tmp.runs/$i"
    rc=$?
    [ "$rc" -eq 0 ] || die "baseline run $i did not complete cleanly (dlbench run exited $rc); $dir left as it was"
    runs+=("$tmp.runs/$i")
  done
  if [ "$BASELINE_RUNS" -ge 2 ]; then
    "$DLBENCH" baseline "$tmp" "${runs[@]}" >&2 || die "dlbench baseline failed; $dir left as it was"
  fi
  rm -rf "$tmp.runs" "$dir"
  mkdir -p "$(dirname "$dir")"
  mv "$tmp" "$dir"
  echo "bench-ci: baseline written to $dir: check its report.md, then commit it (git add $dir)" >&2
}

mode=${1:-}
[ $# -gt 0 ] && shift
case $mode in
  -h|--help|help) usage; exit 0;;
  compare|ab|baseline) ;;
  *) die "unknown mode '$mode' (compare, ab or baseline; $0 --help)";;
esac
[ -x "$DLBENCH" ] || die "no dlbench binary at $DLBENCH (build it with make, or set DLBENCH)"
mkdir -p "$CI_OUT" || die "cannot create $CI_OUT"
"mode_$mode" "$@"
