#!/usr/bin/env bash
# install-deps.sh: installs the Debian/Ubuntu packages dlbench needs, and only those missing.
# Usage: scripts/install-deps.sh [--check] [--with-peers]   (--check: report, install nothing)
set -euo pipefail
required=(build-essential pkg-config libopenblas0-openmp libopenblas-openmp-dev libhwloc-dev libcriterion-dev)
# plots in report.md; libFuzzer targets (make fuzz); MPI for multi-process runs (mpirun, its tests)
optional=(gnuplot-nox clang libopenmpi-dev openmpi-bin)
peers=(python3-numpy python3-torch python3-mpi4py)   # only for ../shared/tools/peers*.py comparisons
check=0; want=("${required[@]}" "${optional[@]}")
for a in "$@"; do
  case "$a" in
    --check) check=1 ;;
    --with-peers) want+=("${peers[@]}") ;;
    -h|--help) sed -n '2,3p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install-deps: unknown option '$a'" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ $check -eq 1 ]; then echo "install-deps: missing: ${missing[*]}"; exit 1; fi
command -v apt-get >/dev/null || { echo "install-deps: no apt-get; install by hand: ${missing[*]}" >&2; exit 1; }
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# Optional packages must not block the required ones when a distribution lacks them.
req_missing=(); opt_missing=()
for p in "${missing[@]}"; do
  if printf '%s\n' "${required[@]}" | grep -qx "$p"; then req_missing+=("$p"); else opt_missing+=("$p"); fi
done
[ ${#req_missing[@]} -eq 0 ] || $sudo apt-get install -y -q --no-install-recommends "${req_missing[@]}"
for p in "${opt_missing[@]}"; do
  $sudo apt-get install -y -q --no-install-recommends "$p" || echo "install-deps: optional $p not installed" >&2
done
