#!/usr/bin/env bash
# mpi-peer-compare.sh [-n RANKS] [-r ROUNDS] [-- MPIRUN_ARGS...]: dlbench's MPI all-reduce bus bandwidth
# against the mpi4py peer (../shared/tools/peers_mpi.py, a plain loop of the same MPI_Allreduce), measured
# back to back and alternating, ROUNDS times, at 1K 16K 64K 1M 16M 64M (fp32). Prints per size the median
# over rounds of each one's busbw, the ratio of the medians (dlbench / peer) and each one's range over
# the rounds. Needs the MPI build (make) and python3-mpi4py. MPIRUN_ARGS go to both (e.g. --mca
# mpi_yield_when_idle 1 on a machine other work shares).
set -euo pipefail
cd "$(dirname "$0")/.."
n=2; rounds=3; bin=${DLBENCH_BIN:-build/dlbench}
peer=${PEER:-}
for p in ../shared/tools/peers_mpi.py ../../shared/tools/peers_mpi.py; do [ -n "$peer" ] || [ ! -f "$p" ] || peer=$p; done
[ -n "$peer" ] || { echo "mpi-peer-compare: peers_mpi.py not found (set PEER=)" >&2; exit 2; }
while getopts n:r: o; do case $o in n) n=$OPTARG ;; r) rounds=$OPTARG ;; *) exit 2 ;; esac; done
shift $((OPTIND - 1)); [ "${1:-}" = "--" ] && shift
export OMPI_ALLOW_RUN_AS_ROOT=${OMPI_ALLOW_RUN_AS_ROOT:-1} OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=${OMPI_ALLOW_RUN_AS_ROOT_CONFIRM:-1}
over=(); [ "$n" -gt "$(nproc)" ] && over=(--oversubscribe)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for r in $(seq "$rounds"); do
  # --min-time 0: the peer then stops after 10 samples on every rank at once (with a time limit each
  # rank decides on its own clock, and one rank can be left waiting in a barrier for good).
  timeout 300 mpirun -n "$n" "${over[@]}" "$@" /usr/bin/python3 "$peer" --sizes 1K,16K,64K,1M,16M,64M --min-time 0 |
    awk -F, -v r="$r" '$4 == "busbw_gbps" { split($3, a, "B"); print "peer," a[1] "," $5 }' >> "$tmp/all.csv"
  timeout 300 mpirun -n "$n" "${over[@]}" "$@" "$bin" run --workload allreduce --dtype fp32 --filter 'allreduce/[16]*[KM]' \
    --min-time 0.2 --max-time 1 --out "$tmp/run$r" --quiet > /dev/null 2>&1
  python3 -c 'import csv, sys
for r in csv.DictReader(open(sys.argv[1], newline="")):
    if r["status"] in ("ok", "noisy"): print("dlbench," + r["bytes"] + "," + r["busbw_gbps"])' "$tmp/run$r/results.csv" >> "$tmp/all.csv"
done
echo "# $n ranks, $rounds alternating rounds, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "bytes,peer_busbw_gbps,dlbench_busbw_gbps,ratio,peer_range,dlbench_range"
python3 - "$tmp/all.csv" <<'PY'
import csv, statistics, sys
v = {}
for who, size, bw in csv.reader(open(sys.argv[1])):
    v.setdefault((who, int(float(size))), []).append(float(bw))
for size in sorted({s for _, s in v}):
    p, d = v.get(("peer", size)), v.get(("dlbench", size))
    if p and d:
        mp, md = statistics.median(p), statistics.median(d)
        print(f"{size},{mp:.3f},{md:.3f},{md / mp:.2f},{min(p):.3f}-{max(p):.3f},{min(d):.3f}-{max(d):.3f}")
PY
