#!/usr/bin/env bash
# drift-probe.sh [PROCS] [WAIT_LOAD]: where does a small multi-threaded GEMM's run-to-run drift come
# from? Builds scripts/drift-probe.c, waits until the 1-minute load average is below WAIT_LOAD
# (default: do not wait), then runs PROCS fresh processes (default 12) of each configuration,
# interleaved so that the machine's own drift hits every configuration alike, and prints one
# line per process and a summary per configuration (median, min, max GFLOP/s, max/min).
# RT=1 runs each probe under SCHED_FIFO (chrt -f 10; root), which keeps other processes' load off
# the CPUs while it runs (the kernel still leaves them 5% of each second); short probes with a
# pause between them stay under that limit.
# TIMELINE=S instead runs one `drift-probe --timeline S` (both vCPUs' add- and imul-chain rates
# every 20 ms) and prints the share of windows in which each vCPU's add chain ran below 75% of its
# best while its imul chain did not (the core shared with another hyperthread).
set -euo pipefail
procs=${1:-12}
wait_load=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
obl=/usr/lib/x86_64-linux-gnu/openblas-openmp
bin=${TMPDIR:-/tmp}/drift-probe
gcc -O2 -fopenmp -I/usr/include/x86_64-linux-gnu/openblas-openmp "$here/drift-probe.c" -L$obl -Wl,-rpath,$obl -lopenblas -o "$bin"
if [ -n "${TIMELINE:-}" ]; then
  OMP_PLACES=cores OMP_PROC_BIND=close ${RT:+chrt -f 10} "$bin" --timeline "$TIMELINE" --threads 2 > "$bin.timeline"
  awk '!/^#/ { for (t = 0; t < 2; t++) { a[NR, t] = $(2 + 2 * t); m[NR, t] = $(3 + 2 * t);
               if (a[NR, t] > besta[t]) besta[t] = a[NR, t]; if (m[NR, t] > bestm[t]) bestm[t] = m[NR, t] } n = NR }
       END { for (t = 0; t < 2; t++) { s = 0; c = 0; line = "";
               for (i = 1; i <= n; i++) { if (!((i, t) in a)) continue; c++;
                 slow = a[i, t] < 0.75 * besta[t] && m[i, t] >= 0.75 * bestm[t]; s += slow; line = line (slow ? "s" : ".") }
               printf "vCPU%d: add chain slowed alone in %d%% of %d windows (best add %.2f, imul %.2f G/s)\n%s\n", t, 100 * s / c, c, besta[t], bestm[t], line } }' "$bin.timeline"
  exit 0
fi
if [ -n "$wait_load" ]; then
  while awk -v w="$wait_load" '{exit !($1 >= w)}' /proc/loadavg; do sleep 20; done
fi
pin="OMP_PLACES=cores OMP_PROC_BIND=close"
configs=(
  "pinned|$pin|--m 128"
  "unpinned||--m 128"
  "passive|$pin OMP_WAIT_POLICY=passive|--m 128"
  "active|$pin OMP_WAIT_POLICY=active|--m 128"
  "offset-1088|$pin|--m 128 --offset 1088"
  "serial-init|$pin|--m 128 --serial-init"
  "warm-pool|$pin|--m 128 --warm-pool 200"
  "1-thread|$pin|--m 128 --threads 1"
  "m1024-thp|$pin|--m 1024 --thp"
  "m1024-nothp|$pin|--m 1024 --nothp"
)
echo "# $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2); THP $(cat /sys/kernel/mm/transparent_hugepage/enabled)${RT:+; SCHED_FIFO}"
out=$(mktemp)
for i in $(seq "$procs"); do
  for c in "${configs[@]}"; do
    IFS='|' read -r name envs args <<<"$c"
    line=$(env $envs ${RT:+chrt -f 10} "$bin" --seconds 0.3 $args)
    sleep 0.2
    echo "$name load=$(cut -d' ' -f1 /proc/loadavg) $line" | tee -a "$out"
  done
done
echo "# $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# config: median min max GFLOP/s, max/min, over $procs processes"
for c in "${configs[@]}"; do
  name=${c%%|*}
  grep "^$name " "$out" | sed 's/.* gflops=\([0-9.]*\) .*/\1/' | sort -n |
    awk -v n="$name" '{v[NR]=$1} END {printf "%-12s %7.1f %7.1f %7.1f %6.2f  %s\n", n, v[int((NR+1)/2)], v[1], v[NR], v[NR]/(v[1]>0?v[1]:1), ""}'
done
rm -f "$out"
