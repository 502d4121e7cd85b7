# Makefile: builds dlbench (CPU backend always; the CUDA backend from gpu/gpu.mk whenever nvcc is
# found), its tests, and runs the benchmark. Only `make deps`, `make test` and `make bench` install
# missing system packages (scripts/install-deps.sh); any other goal, a plain `make` included, only
# says what is missing. `make install` honours PREFIX and DESTDIR.
.DEFAULT_GOAL := all
SUITE      ?= quick
BENCH_ARGS ?=
ifeq ($(origin CC),default)
  CC := gcc
endif
comma      := ,
MARCH      ?= -march=native
PREFIX     ?= /usr/local
OBLAS_DIR  ?= /usr/lib/x86_64-linux-gnu/openblas-openmp
OBLAS_INC  ?= /usr/include/x86_64-linux-gnu/openblas-openmp
FUZZ_SECONDS ?= 60

# Each configuration builds in its own folder: objects never mix flags.
ifeq ($(SAN),1)
  BUILD   := build/san
  SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
  BUILD   := build
  SANFLAGS :=
endif
ifneq ($(NO_CUDA),)
  BUILD := $(BUILD)/nocuda
endif
ifneq ($(origin MARCH),file)
  BUILD := $(BUILD)/march$(subst =,-,$(subst -march=,,$(MARCH)))
endif

GIT_REV := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

# The goals that may install packages; every other goal checks and says what is missing.
DEPS_OK := build/.deps-ok
ifneq ($(filter deps test bench bench-full bench-compare,$(MAKECMDGOALS)),)
  PREREQ := $(DEPS_OK)
else
  PREREQ := check-deps
endif

INC_DIRS := harness harness/dist harness/measure harness/workloads harness/output kernels cpu gpu bench
CPPFLAGS := $(INC_DIRS:%=-I%) -I$(OBLAS_INC) -D_GNU_SOURCE \
            -DDLBENCH_GIT_REV='"$(GIT_REV)"' -DDLBENCH_PRICES='"$(abspath bench/prices.csv)"'
CFLAGS   := -std=c11 -O3 $(MARCH) -fopenmp -fno-math-errno -Wall -Wextra -MMD -MP -g $(SANFLAGS)
LDFLAGS  := -fopenmp $(SANFLAGS) -L$(OBLAS_DIR) -Wl,-rpath,$(OBLAS_DIR)
LDLIBS   := -lopenblas -lhwloc -lcjson -ldl -lmvec -lm

SRC_C := $(wildcard harness/*.c harness/*/*.c bench/*.c kernels/*.c cpu/*.c)
# oneDNN: header at build time only; libdnnl.so.2 is dlopen'ed at run time, never linked.
ifneq ($(wildcard /usr/include/oneapi/dnnl/dnnl.h),)
  CPPFLAGS_DNNL := -DHAVE_DNNL
  # Except in the sanitizer build: GCC 12's LeakSanitizer crashes walking a dlopen'ed library's
  # dynamic TLS ("Tracer caught signal 11"), so there libdnnl is linked and its TLS is static.
  ifeq ($(SAN),1)
    LDLIBS_DNNL := -Wl,--no-as-needed -ldnnl -Wl,--as-needed
  endif
else
  SRC_C := $(filter-out cpu/backend_onednn.c,$(SRC_C))
endif
CPPFLAGS += $(CPPFLAGS_DNNL)
LDLIBS   += $(LDLIBS_DNNL)
include gpu/gpu.mk
include harness/dist/dist.mk
CPPFLAGS += -DDLBENCH_CFLAGS='"$(strip $(CFLAGS))"' -DDLBENCH_CC='"$(CC)"'

# The git revision is compiled into the objects that print it: they rebuild when it changes.
GIT_REV_STAMP := $(BUILD)/.git-rev
$(shell mkdir -p $(BUILD); [ "$$(cat $(GIT_REV_STAMP) 2>/dev/null)" = '$(GIT_REV)' ] || echo '$(GIT_REV)' > $(GIT_REV_STAMP))
$(BUILD)/obj/harness/cli.o $(BUILD)/obj/harness/output/sysinfo_collect.o: $(GIT_REV_STAMP)

# The C objects rebuild when their flags change, and when -march=native names another CPU than the
# one they were compiled for (a checkout carried to another machine would otherwise run the first
# CPU's instructions there: AVX-512 objects from a Zen 4 fault with SIGILL on a Zen 3).
NATIVE_ARCH := $(if $(findstring native,$(MARCH)),$(shell $(CC) $(MARCH) -Q --help=target 2>/dev/null | awk '$$1 == "-march=" {print $$2}'))
CFLAGS_STAMP := $(BUILD)/.cflags
CFLAGS_SIG   := $(CC) $(CFLAGS)$(if $(NATIVE_ARCH), (native = $(NATIVE_ARCH)))
$(shell [ "$$(cat $(CFLAGS_STAMP) 2>/dev/null)" = '$(CFLAGS_SIG)' ] || echo '$(CFLAGS_SIG)' > $(CFLAGS_STAMP))

MAIN_OBJ := $(BUILD)/obj/harness/main.o
LIB_OBJ  := $(filter-out $(MAIN_OBJ),$(SRC_C:%.c=$(BUILD)/obj/%.o)) $(CU_OBJ)
TEST_SRC := $(wildcard tests/*.c)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/obj/%.o)
# tests/sim/: a CPU simulator of CUDA's warp-level device side and the fused GPU kernels compiled
# for it (g++, no toolkit needed), so the tests check those kernels on machines without a GPU.
SIM_OBJ  := $(patsubst %.cc,$(BUILD)/obj/%.o,$(wildcard tests/sim/*.cc))
SIMFLAGS := -std=c++17 -O2 -g $(SANFLAGS) -DDLBENCH_CUDA_SIM -fno-strict-aliasing -Wall -Wextra -Wno-unknown-pragmas -MMD -MP
DLBENCH  := $(BUILD)/dlbench
TESTBIN  := $(BUILD)/dlbench-tests

.PHONY: all deps check-deps bench bench-full bench-compare bench-ab bench-baseline test fuzz clean info-build install uninstall
.SECONDEXPANSION:
all: info-build $(DLBENCH)

info-build:
	@echo "dlbench build: nvcc=$(or $(NVCC),none$(if $(NO_CUDA), (NO_CUDA=1))) cudnn=$(if $(filter -DHAVE_CUDNN,$(CPPFLAGS)),yes,no) onednn=$(if $(CPPFLAGS_DNNL),yes,no)" \
	      "mpi=$(if $(HAVE_MPI),yes,no$(if $(NO_MPI), (NO_MPI=1))) nccl=$(if $(filter -DHAVE_NCCL,$(CPPFLAGS)),yes (dlopen),no)" \
	      "openmp=libgomp openblas=$(OBLAS_DIR) ($(if $(wildcard $(OBLAS_DIR)/libopenblas.so),OpenMP build,MISSING))" \
	      "march=$(MARCH)$(if $(SAN), san=1)"

# The install script runs once, and again whenever it changes (deps, test, bench).
$(DEPS_OK): scripts/install-deps.sh
	@mkdir -p build
	@scripts/install-deps.sh
	@touch $@
deps: $(DEPS_OK)

# Any other goal: one line per missing package and the command that installs them, then stop.
check-deps:
	@scripts/install-deps.sh --check=build$(if $(filter fuzz,$(MAKECMDGOALS)),$(comma)fuzz)

$(BUILD)/obj/%.o: %.c $(CFLAGS_STAMP) | $(PREREQ)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(DLBENCH): $(MAIN_OBJ) $(LIB_OBJ)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# The simulated kernels first: their objects take the longest to compile (flash_sim_launch.h), so
# with -j they start while the rest compiles rather than finish last on one core.
$(TESTBIN): $(SIM_OBJ) $(TEST_OBJ) $(LIB_OBJ)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -lstdc++ -lcriterion -o $@

$(BUILD)/obj/tests/sim/%.o: tests/sim/%.cc | $(PREREQ)
	@mkdir -p $(dir $@)
	$(CXX) $(SIMFLAGS) -Itests/sim -Ikernels -Igpu -c $< -o $@

ifneq ($(MPI_TESTBIN),)
$(MPI_TESTBIN): $(BUILD)/obj/tests/mpi/test_dist.o $(LIB_OBJ)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@
endif

$(BUILD)/obj/tests/%.o: CPPFLAGS += -Itests -DDLBENCH_BIN='"$(abspath $(DLBENCH))"' -DDLBENCH_PRICES_FILE='"$(abspath bench/prices.csv)"'

# The include graph (no circles, no upward includes), `make install` into a temporary folder,
# --help against README, sass-mix.py on a fixed listing and the CI step (scripts/ci/bench-ci.sh) end
# to end on tiny runs first, then
# the tests: CPU tests in parallel workers, GPU tests (suite names cuda_*) one at a time.
test: $(TESTBIN) $(DLBENCH)
	@scripts/check-includes.sh
	@scripts/check-install.sh
	@scripts/check-docs.sh $(DLBENCH)
	@scripts/test-sass-mix.sh
	@scripts/ci/test-bench-ci.sh $(DLBENCH)
	@scripts/run-tests.sh $(TESTBIN) $(TEST_ARGS)

# The binary to $(PREFIX)/bin, the price table to $(PREFIX)/share/dlbench/ (found there at run time
# relative to the binary); DESTDIR stages the tree for a package.
install: $(DLBENCH)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/dlbench
	install -m 755 $(DLBENCH) $(DESTDIR)$(PREFIX)/bin/dlbench
	install -m 644 bench/prices.csv $(DESTDIR)$(PREFIX)/share/dlbench/prices.csv

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/dlbench $(DESTDIR)$(PREFIX)/share/dlbench/prices.csv
	-rmdir $(DESTDIR)$(PREFIX)/share/dlbench 2>/dev/null

bench: $(DLBENCH)
	@echo "make bench: the $(SUITE) suite: $(if $(filter quick,$(SUITE)),designed to take at most about 2 minutes (bandwidth arrays capped at 256 MiB),tens of minutes on a small machine); dlbench prints its own estimate once the rows are planned"
	$(DLBENCH) run --suite $(SUITE) $(BENCH_ARGS)

bench-full:
	$(MAKE) bench SUITE=full

# Regression checks. GNU make itself exits 2 whenever a recipe fails, whatever the recipe's status:
# CI that must tell a regression (1) from bad input (2) calls scripts/bench-compare.sh or dlbench.
#   make bench-compare BASE=<run or baseline folder>   one quick run of this build against BASE
#   make bench-ab BASE=<git rev> [NEW=<rev>] [ROUNDS=k] the two builds side by side, taking turns (dlbench ab)
#   make bench-baseline NAME=<machine> [RUNS=5]         results/baselines/NAME with its noise model
bench-compare: $(DLBENCH)
	@scripts/bench-compare.sh $(DLBENCH) "$(BASE)" $(BUILD)/compare-run --suite $(SUITE) $(BENCH_ARGS)

bench-ab: $(DLBENCH)
	@test -n "$(BASE)" || { echo "usage: make bench-ab BASE=<git revision> [NEW=<revision>] [ROUNDS=k] [BENCH_ARGS=...]" >&2; exit 2; }
	$(DLBENCH) ab $(BASE) $(NEW) $(if $(ROUNDS),--rounds $(ROUNDS)) -- --suite $(SUITE) $(BENCH_ARGS)

RUNS ?= 5
bench-baseline: $(DLBENCH)
	@test -n "$(NAME)" || { echo "usage: make bench-baseline NAME=<machine class> [RUNS=5] [BENCH_ARGS=...]" >&2; exit 2; }
	rm -rf $(BUILD)/baseline-runs
	@set -e; for i in $$(seq $(RUNS)); do echo "== run $$i of $(RUNS)"; \
	  $(DLBENCH) run --suite $(SUITE) --out $(BUILD)/baseline-runs/$$i --quiet $(BENCH_ARGS) || [ $$? -eq 1 ]; done
	rm -rf results/baselines/$(NAME)
	cp -r $(BUILD)/baseline-runs/1 results/baselines/$(NAME)
	$(DLBENCH) baseline results/baselines/$(NAME) $$(seq -f '$(BUILD)/baseline-runs/%g' $(RUNS))

# Fuzzing (clang's libFuzzer + ASan/UBSan) of every parser; FUZZ_SECONDS per target. Crashing
# inputs go to tests/fuzz/regressions/<target>/ and are replayed by every `make fuzz`.
FUZZ_TARGETS := cli_values results_csv samples_csv system_json prices idx noise_csv
FUZZ_SRC_cli_values  := harness/cli.c kernels/dtype.c
FUZZ_SRC_results_csv := harness/output/results.c harness/measure/row.c harness/output/files.c
FUZZ_SRC_samples_csv := harness/output/results.c harness/measure/row.c harness/output/files.c
FUZZ_SRC_system_json := harness/output/sysinfo.c harness/output/files.c
FUZZ_SRC_prices      := harness/output/prices.c harness/output/results.c harness/measure/row.c harness/output/sysinfo.c harness/output/files.c
FUZZ_SRC_idx         := harness/workloads/dataset.c kernels/rng.c
FUZZ_SRC_noise_csv   := harness/output/noise.c harness/output/results.c harness/output/files.c harness/measure/row.c
FUZZ_CC ?= clang
build/fuzz/%: tests/fuzz/fuzz_%.c $$(FUZZ_SRC_$$*) | $(PREREQ)
	@mkdir -p build/fuzz
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE $(INC_DIRS:%=-I%) $^ -lcjson -o $@

fuzz: $(FUZZ_TARGETS:%=build/fuzz/%)
	@scripts/run-fuzz.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
