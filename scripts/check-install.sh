#!/usr/bin/env bash
# check-install.sh: `make install DESTDIR=<temporary folder> PREFIX=/usr/local` puts the binary in
# $PREFIX/bin and the price table in $PREFIX/share/dlbench/, and the installed binary runs and
# finds that table (with $DLBENCH_PRICES unset; $DLBENCH_PRICES wins when set). Run by `make test`;
# the make variables of the calling make (SAN=1, MARCH=...) reach this one through MAKEFLAGS.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "check-install: $*" >&2; exit 1; }
${MAKE:-make} -s install DESTDIR="$tmp/stage" PREFIX=/usr/local > "$tmp/log" 2>&1 || { cat "$tmp/log" >&2; fail "make install failed"; }
bin=$tmp/stage/usr/local/bin/dlbench
share=$tmp/stage/usr/local/share/dlbench/prices.csv
[ -x "$bin" ] || fail "no executable $bin"
cmp -s bench/prices.csv "$share" || fail "$share is not bench/prices.csv"
# `info` names the price table in use: "  prices   <path>"
got=$(env -u DLBENCH_PRICES "$bin" info --no-ceilings | awk '$1 == "prices" { print $2 }')
[ "$got" = "$share" ] || fail "the installed binary reads prices from '$got', not $share"
cp bench/prices.csv "$tmp/mine.csv"
got=$(env DLBENCH_PRICES="$tmp/mine.csv" "$bin" info --no-ceilings | awk '$1 == "prices" { print $2 }')
[ "$got" = "$tmp/mine.csv" ] || fail "\$DLBENCH_PRICES=$tmp/mine.csv ignored: '$got'"
"$bin" --version > /dev/null || fail "the installed binary does not run"
echo "check-install: make install DESTDIR=... PREFIX=/usr/local: bin/dlbench runs and finds share/dlbench/prices.csv"
