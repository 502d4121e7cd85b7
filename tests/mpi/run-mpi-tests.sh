#!/usr/bin/env bash
# run-mpi-tests.sh MPI_TESTBIN: the MPI tests `make test` runs when dlbench is built with MPI; TAP on
# stdout. The collectives program at 2, 3 and 4 ranks (oversubscribed on small machines), then
# `dlbench run` under mpirun: rank 0 gathering every rank's rows with a rank that fails on purpose,
# a rank that hangs (lost after --case-timeout), data-parallel steps equal to one rank's step (and a
# rank that skips the gradient sum caught), a rank that dies (rows already measured survive), and a
# launcher-less run of the MPI build (one process, as without MPI).
set -uo pipefail
testbin=$1
bin=${DLBENCH_BIN:-$(dirname "$testbin")/dlbench}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none   # containers often forbid CMA (ptrace) between ranks
# SAN=1 builds: Open MPI's plugins and OpenBLAS keep allocations to exit (LeakSanitizer would fail every
# rank); address and undefined-behaviour checks stay on.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
n=0; failed=0
ok() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi; }
run() { timeout "${T:-120}" mpirun --oversubscribe "$@"; }
quick=(run --suite quick --backend cpu --no-ceilings --min-time 0.01 --max-time 0.05 --quiet)
# rows FILE 'COND': how many rows of a results.csv satisfy an awk condition on columns by name,
# c["status"], c["rank"], … (fields are CSV-parsed first: quoted fields hold commas)
rows() {
  python3 -c 'import csv, sys
w = csv.writer(sys.stdout, delimiter="\t", lineterminator="\n")
for r in csv.reader(open(sys.argv[1], newline="")): w.writerow([f.replace("\t", " ").replace("\n", " ") for f in r])' "$1" |
    awk -F'\t' "NR == 1 { for (i = 1; i <= NF; i++) h[\$i] = i; next } { for (k in h) c[k] = \$(h[k]) } $2 { m++ } END { print m + 0 }"
}

# 1. The collectives at awkward counts on every group, 2, 3 and 4 ranks (its own TAP lines, renumbered).
for np in 2 3 4; do
  out=$(run -n $np "$testbin" cpu 2> "$tmp/coll$np.err"); rc=$?
  while IFS= read -r line; do
    case "$line" in
      "ok "*) ok 0 "${line#ok * - }" ;;
      "not ok "*) ok 1 "${line#not ok * - }" ;;
    esac
  done <<< "$out"
  ok $(( rc != 0 || $(grep -c '^ok ' <<< "$out") == 0 )) "collectives program at $np ranks exits 0 (rc $rc)"
  [ $rc -eq 0 ] || tail -5 "$tmp/coll$np.err" | sed 's/^/# /'
done

# 2. Rank 0 gathers every rank's rows; rank 1 fails one case on purpose.
DLBENCH_TEST_FAULT=fail:1:sq256 run -n 3 -x DLBENCH_TEST_FAULT "$bin" "${quick[@]}" --workload gemm --dtype fp32 \
  --filter 'gemm/sq[12][25][68]' --out "$tmp/gather" > /dev/null 2> "$tmp/gather.err"; rc=$?
csv=$tmp/gather/results.csv
ok $(( rc != 1 )) "a rank's failed row makes the run exit 1 (rc $rc)"
ok $(( $(rows "$csv" 1) != 6 )) "rank 0 wrote 2 cases x 3 ranks = 6 rows into one results.csv"
head -1 "$csv" | grep -q ',rank,ranks,host,busbw_gbps$'; ok $? "results.csv ends with the columns rank, ranks, host, busbw_gbps"
ok $(( $(rows "$csv" 'c["case"] == "sq256" && c["status"] ~ /^failed: a fault injected/ && c["rank"] == 1') != 1 )) "rank 1's sq256 row is failed, with its rank"
ok $(( $(rows "$csv" '(c["status"] == "ok" || c["status"] == "noisy") && c["ranks"] == 3') != 5 )) "the other 5 rows are verified and say ranks = 3"
grep -q '^## Every rank at once' "$tmp/gather/report.md"; ok $? "report.md has the every-rank section"
grep -q 'gemm/sq256 fp32 (rank 1): failed' "$tmp/gather/report.md"; ok $? "report.md's notes name the failed rank"

# 3. A rank that hangs: the others give up after --case-timeout, rank 0 writes what it has.
DLBENCH_TEST_FAULT=hang:2:sq256 T=90 run -n 3 -x DLBENCH_TEST_FAULT "$bin" "${quick[@]}" --workload gemm --dtype fp32 \
  --filter 'gemm/sq[12][25][68]' --case-timeout 1 --out "$tmp/hang" > /dev/null 2> "$tmp/hang.err"; rc=$?
csv=$tmp/hang/results.csv
ok $(( rc == 0 || rc == 124 )) "a hung rank ends the run with an error, not a hang (rc $rc)"
ok $(( $(grep -c 'failed: rank 2 lost' "$csv") != 1 )) "its row says: failed: rank 2 lost"
ok $(( $(rows "$csv" 'c["case"] == "sq128" && (c["status"] == "ok" || c["status"] == "noisy")') != 3 )) "the rows measured before it are kept"
test -s "$tmp/hang/report.md"; ok $? "report.md is written"

# 4. Data-parallel steps at 1 and 2 ranks end with one rank's weights; a rank that skips the sum is caught.
run -n 2 "$bin" "${quick[@]}" --workload dp-train --filter 'dp-train/mlp.b128.weak' --out "$tmp/dp" > /dev/null 2> "$tmp/dp.err"; rc=$?
csv=$tmp/dp/results.csv
ok $(( rc != 0 )) "mlp data-parallel run exits 0 (rc $rc)"
ok $(( $(rows "$csv" 'c["workload"] == "dp-train" && (c["status"] == "ok" || c["status"] == "noisy") && c["rank"] == "" && c["verify_err"] <= 1e-4') != 2 )) \
  "2 rows (1 and 2 ranks) verified: equal to one rank's step on the global batch"
DLBENCH_TEST_FAULT=dp-noreduce run -n 2 -x DLBENCH_TEST_FAULT "$bin" "${quick[@]}" --workload dp-train \
  --filter 'dp-train/mlp.b128.weak' --out "$tmp/dpbad" > /dev/null 2> "$tmp/dpbad.err"; rc=$?
ok $(( rc != 1 )) "ranks that skip the gradient sum fail the run (rc $rc)"
ok $(( $(rows "$tmp/dpbad/results.csv" 'c["ranks"] == 2 && c["status"] ~ /^failed: error/') != 1 )) "the 2-rank row fails its equivalence check"

# 5. A rank that dies: the rows already written survive.
DLBENCH_TEST_FAULT=exit:1:sq256 run -n 2 -x DLBENCH_TEST_FAULT "$bin" "${quick[@]}" --workload gemm --dtype fp32 \
  --filter 'gemm/sq[12][25][68]' --out "$tmp/die" > /dev/null 2> "$tmp/die.err"; rc=$?
ok $(( rc == 0 )) "a dead rank ends the run with an error (rc $rc)"
ok $(( $(rows "$tmp/die/results.csv" 'c["case"] == "sq128"') != 2 )) "both ranks' sq128 rows were written before it died"

# 6. The MPI build without a launcher: one process, collectives skipped with the reason.
"$bin" "${quick[@]}" --workload allreduce --filter 'allreduce/1K' --dtype fp32 --out "$tmp/single" > /dev/null 2>&1; rc=$?
ok $(( rc != 0 )) "without mpirun the MPI build runs as one process (rc $rc)"
grep -q 'skipped: one process' "$tmp/single/results.csv"; ok $? "its collective rows say why they were skipped"

echo "1..$n"
[ $failed -eq 0 ]
