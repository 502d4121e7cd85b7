#!/usr/bin/env bash
# run-tests.sh TESTBIN: runs the Criterion tests, CPU suites in parallel workers and CUDA suites
# (cuda_*) in one worker, then the MPI tests when $DLBENCH_MPI_TESTS names their script (MPI builds),
# and prints one closing line: "tests: N passed, N failed, N skipped".
set -uo pipefail
bin=$1; shift
dir=$(dirname "$bin")
rc=0
# The CPU suites run in as many workers as there are cores, and each test's OpenMP team has as many
# threads again: with libgomp's default (threads spin at barriers) a spinning thread waits for one
# that the other worker's threads have descheduled, and a test takes 5-10 times its time alone
# (CI, 2 cores: the MLP's 200-step test 33.5 s against 3.2 s alone). Threads that sleep at barriers
# change no result; a user's own setting is kept.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
echo "== CPU tests"
"$bin" --filter='!(cuda_*)/*' --tap="$dir/tests-cpu.tap" "$@" || rc=1
echo "== CUDA tests (one worker; each skips without a usable GPU)"
"$bin" --filter='cuda_*/*' -j1 --tap="$dir/tests-cuda.tap" "$@" || rc=1
# The MPI build (harness/dist/dist.mk) sets DLBENCH_MPI_TESTS: its script runs under mpirun, TAP out.
: > "$dir/tests-mpi.tap"
if [ -n "${DLBENCH_MPI_TESTS:-}" ]; then
  echo "== MPI tests (mpirun -n 2, 3, 4)"
  $DLBENCH_MPI_TESTS > "$dir/tests-mpi.tap" 2> "$dir/tests-mpi.err" || rc=1
  grep '^not ok' "$dir/tests-mpi.tap"
  echo "mpi: $(grep -c '^ok' "$dir/tests-mpi.tap") passed, $(grep -c '^not ok' "$dir/tests-mpi.tap") failed"
fi
# Each run lists the other run's (filtered-out) tests as "# SKIP test was skipped": drop those.
cat "$dir/tests-cpu.tap" "$dir/tests-cuda.tap" "$dir/tests-mpi.tap" | grep -v '# SKIP test was skipped$' > "$dir/tests.tap"
skipped=$(grep -c '^ok .*# SKIP' "$dir/tests.tap")
passed=$(( $(grep -c '^ok ' "$dir/tests.tap") - skipped ))
failed=$(grep -c '^not ok ' "$dir/tests.tap")
grep '# SKIP' "$dir/tests.tap" | sed 's/^ok [0-9]* - /skipped: /' | sort -u | head -20
[ "$failed" -eq 0 ] || rc=1
[ $((passed + failed)) -gt 0 ] || { echo "run-tests: no test ran" >&2; rc=1; }
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit $rc
