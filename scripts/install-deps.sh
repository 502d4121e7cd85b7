#!/usr/bin/env bash
# install-deps.sh: installs the Debian/Ubuntu packages dlbench needs, and only those missing.
# Usage: scripts/install-deps.sh [--check[=GROUPS]] [--with-peers]
#   --check          report what is missing of everything below, install nothing (exit 1 if any)
#   --check=GROUPS   the same for some groups (build,test,fuzz,plots,mpi): one line per missing package
#                    and the command that installs them; what a plain `make` runs (--check=build)
# Only `make deps`, `make test` and `make bench` run it to install.
set -euo pipefail
build=(build-essential libopenblas0-openmp libopenblas-openmp-dev libhwloc-dev libcjson-dev
       libdnnl-dev)                     # oneDNN: its header builds the onednn backend, libdnnl2 runs it
test=(libcriterion-dev pkg-config)
required=("${build[@]}" "${test[@]}")
fuzz=(clang)                          # libFuzzer targets (make fuzz)
plots=(gnuplot-nox)                   # plots in report.md
mpi=(libopenmpi-dev openmpi-bin)      # multi-process runs under mpirun, collectives, their tests
optional=("${plots[@]}" "${fuzz[@]}" "${mpi[@]}")
peers=(python3-numpy python3-torch python3-mpi4py)   # only for ../shared/tools/peers*.py comparisons
check=0; groups=""; want=("${required[@]}" "${optional[@]}")
for a in "$@"; do
  case "$a" in
    --check) check=1 ;;
    --check=*) check=1; groups=${a#--check=} ;;
    --with-peers) want+=("${peers[@]}") ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install-deps: unknown option '$a'" >&2; exit 2 ;;
  esac
done
if [ -n "$groups" ]; then
  want=()
  for g in ${groups//,/ }; do
    case "$g" in
      build) want+=("${build[@]}") ;; test) want+=("${test[@]}") ;;
      fuzz) want+=("${fuzz[@]}") ;; plots) want+=("${plots[@]}") ;; mpi) want+=("${mpi[@]}") ;;
      *) echo "install-deps: unknown group '$g' (build, test, fuzz, plots, mpi)" >&2; exit 2 ;;
    esac
  done
  # Without dpkg there is no package database to ask: let the compiler say what is missing.
  command -v dpkg-query >/dev/null || exit 0
fi
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ -n "$groups" ]; then
  for p in "${missing[@]}"; do echo "dlbench: missing package $p" >&2; done
  echo "dlbench: install with: sudo apt-get install ${missing[*]}   (or: make deps)" >&2
  exit 1
fi
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
