#!/usr/bin/env bash
# check-docs.sh DLBENCH: README.md and the program's --help describe the same command line. Fails
# (exit 1, one line per problem) when a command listed by `dlbench --help` is not in README, when an
# option in a command's --help is not in README, or when README names an option (--word) that no
# command's --help lists (an unambiguous prefix of one, as getopt_long takes it, is fine). The help texts are the one source; README is checked against them.
set -uo pipefail
bin=${1:-build/dlbench}
readme=$(dirname "$0")/../README.md
bad=0
all=" --help --version "
declare -A per_cmd
commands=$("$bin" --help | awk '/^  [a-z]+ / && $1 != "dlbench" { print $1 }')
[ -n "$commands" ] || { echo "check-docs: '$bin --help' lists no commands" >&2; exit 1; }
for cmd in $commands; do
  grep -q "dlbench $cmd" "$readme" || { echo "check-docs: README.md does not show 'dlbench $cmd'"; bad=1; }
  for opt in $("$bin" "$cmd" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
    all="$all$opt "
    per_cmd[$cmd]="${per_cmd[$cmd]:-} $opt"
    grep -q -- "$opt\\b" "$readme" || { echo "check-docs: README.md lacks $opt (in 'dlbench $cmd --help')"; bad=1; }
  done
done
# An unambiguous prefix of one command's option (README's `--thr 2`) is what getopt_long takes too.
prefix_of_one() {
  local c
  for c in "${!per_cmd[@]}"; do
    [ "$(printf '%s\n' ${per_cmd[$c]} | grep -c -- "^$1")" -eq 1 ] && return 0
  done
  return 1
}
# Lines about the peer scripts (peers.py, peers_gpu.py, peers_mpi.py) name their options, not dlbench's.
for opt in $(grep -v 'peers[a-z_]*\.py' "$readme" | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
  case $all in
    *" $opt "*) ;;
    *) prefix_of_one "$opt" || { echo "check-docs: README.md names $opt, which no command's --help lists"; bad=1; };;
  esac
done
[ "$bad" -eq 0 ] && echo "check-docs: README.md and --help agree on $(echo $commands | wc -w) commands and $(echo $all | wc -w) options"
exit "$bad"
