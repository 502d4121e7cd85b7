#!/usr/bin/env bash
# check-includes.sh: the include graph goes one way. Fails (exit 1, one line per problem) when
#  - modules include each other in a circle (a module is foo.c/foo.h/foo.cu/foo.cuh together, so
#    report.c -> plots.h -> ... -> report.h counts), or
#  - a lower layer includes an upper one. Layers, lowest first:
#      0 kernels    kernels/ (references, dtype, rng)
#      1 backends   cpu/, gpu/, harness/backend.h, harness/registry.c
#      2 workloads  harness/workloads/, bench/, harness/dist/ ranks and groups (group.h: its transports,
#                   binding, common parts)
#      3 measure    harness/measure/, harness/dist/ rows (dist.h, collect.c, dist_measure.c)
#      4 output     harness/output/, harness/cli.[ch], harness/dist/describe.[ch]
#      5 commands   harness/main.c, harness/run.[ch], harness/run_opts.h, harness/run_settings.[ch], harness/ab.[ch]
#    tests/ may include anything. A quoted include that resolves to no file is an error too.
# Usage: scripts/check-includes.sh [-v]   (-v: print the module graph)
set -euo pipefail
cd "$(dirname "$0")/.."
# The -I order of the Makefile, after the including file's own folder.
incdirs="harness harness/dist harness/measure harness/workloads harness/output kernels cpu gpu bench tests"
files=$(find harness bench kernels cpu gpu tests -type f \( -name '*.c' -o -name '*.h' -o -name '*.cu' -o -name '*.cuh' \) | sort)
for f in $files; do
  sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" | while read -r inc; do
    target=""
    for d in "$(dirname "$f")" $incdirs; do
      if [ -f "$d/$inc" ]; then target="$d/$inc"; break; fi
    done
    echo "$f ${target:-?$inc}"
  done
done | awk -v verbose="${1:-}" '
function module(p) { sub(/\.(c|h|cu|cuh)$/, "", p); return p }
function layer(p) {
  if (p ~ /^tests\//) return -1
  if (p ~ /^kernels\//) return 0
  if (p ~ /^(cpu|gpu)\// || p == "harness/backend" || p == "harness/registry") return 1
  if (p ~ /^(harness\/workloads|bench)\// || p ~ /^harness\/dist\/(group|dist_common|dist_impl|dist_mpi|dist_local|bind)$/) return 2
  if (p ~ /^harness\/measure\// || p ~ /^harness\/dist\/(dist|collect|dist_measure)$/) return 3
  if (p ~ /^harness\/output\// || p == "harness/cli" || p == "harness/dist/describe") return 4
  if (p == "harness/main" || p == "harness/run" || p == "harness/run_opts" || p == "harness/run_settings" || p == "harness/ab") return 5
  return -2
}
BEGIN { split("kernels backends workloads measure output commands", lname, " "); bad = 0 }
{
  from = $1; to = $2
  if (to ~ /^\?/) { printf "check-includes: %s includes \"%s\", which is no file here\n", from, substr(to, 2); bad = 1; next }
  a = module(from); b = module(to)
  if (layer(a) == -2) { printf "check-includes: %s is in no layer (add it to scripts/check-includes.sh)\n", from; bad = 1 }
  if (a == b) next
  if (layer(a) >= 0 && layer(b) > layer(a))
    { printf "check-includes: %s (%s) includes %s (%s): a lower layer may not include an upper one\n", from, lname[layer(a) + 1], to, lname[layer(b) + 1]; bad = 1 }
  if (!((a, b) in edge)) { edge[a, b] = 1; out[a] = out[a] " " b; nodes[a] = 1; nodes[b] = 1 }
}
# Depth-first search; a grey node reached again closes a circle, printed along the stack.
function visit(n,    i, k, m, list) {
  color[n] = 1; stack[++depth] = n
  k = split(out[n], list, " ")
  for (i = 1; i <= k; i++) {
    m = list[i]
    if (color[m] == 1) {
      path = m; for (j = depth; j >= 1 && stack[j] != m; j--) path = stack[j] " -> " path
      printf "check-includes: circle: %s -> %s\n", m, path; bad = 1
    } else if (color[m] == 0) visit(m)
  }
  depth--; color[n] = 2
}
END {
  for (n in nodes) color[n] = 0
  for (n in nodes) if (color[n] == 0) { depth = 0; visit(n) }
  if (verbose == "-v") for (n in out) printf "%s ->%s\n", n, out[n]
  if (bad) exit 1
  printf "check-includes: %d modules, no circles, every include points down or across its layer\n", length(nodes)
}'
