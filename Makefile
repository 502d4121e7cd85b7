# Makefile: builds dlbench (CPU backend always, CUDA backend whenever nvcc is found), its tests,
# and runs the benchmark. `make bench` and `make test` install missing system packages first.
.DEFAULT_GOAL := all
SUITE      ?= quick
BENCH_ARGS ?=
ifeq ($(origin CC),default)
  CC := gcc
endif
comma := ,
MARCH      ?= -march=native
CUDA_HOME  ?= /usr/local/cuda
CUDA_ARCH  ?= 75 80 86 89 90
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

NVCC := $(if $(NO_CUDA),,$(wildcard $(CUDA_HOME)/bin/nvcc))
GIT_REV := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

CPPFLAGS := -Iharness -Iharness/dist -Iharness/measure -Iharness/workloads -Iharness/output -Ikernels -Icpu -Igpu -Ibench -I$(OBLAS_INC) -D_GNU_SOURCE \
            -DDLBENCH_GIT_REV='"$(GIT_REV)"' -DDLBENCH_PRICES='"$(abspath bench/prices.csv)"'
CFLAGS   := -std=c11 -O3 $(MARCH) -fopenmp -fno-math-errno -Wall -Wextra -MMD -MP -g $(SANFLAGS)
LDFLAGS  := -fopenmp $(SANFLAGS) -L$(OBLAS_DIR) -Wl,-rpath,$(OBLAS_DIR)
LDLIBS   := -lopenblas -lhwloc -ldl -lmvec -lm

SRC_C := $(wildcard harness/*.c harness/*/*.c bench/*.c kernels/*.c cpu/*.c)
ifneq ($(NVCC),)
  CPPFLAGS += -DHAVE_CUDA -I$(CUDA_HOME)/include
  NVDEFS   := -D_GNU_SOURCE -DHAVE_CUDA
  SRC_C  += $(wildcard gpu/*.c)
  SRC_CU := $(wildcard gpu/*.cu)
  LDFLAGS += -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64
  LDLIBS  += -lcublas -lcudart -lstdc++
  # SASS per listed architecture, plus PTX of the newest so later GPUs JIT it.
  NVGENCODE := $(foreach a,$(CUDA_ARCH),-gencode arch=compute_$(a),code=sm_$(a)) \
               $(if $(CUDA_ARCH),-gencode arch=compute_$(lastword $(CUDA_ARCH))$(comma)code=compute_$(lastword $(CUDA_ARCH)))
  ifneq ($(wildcard $(CUDA_HOME)/include/cudnn.h),)
    CPPFLAGS += -DHAVE_CUDNN      # libcudnn is dlopen'ed at run time: never a link dependency
  else
    SRC_C := $(filter-out gpu/backend_cudnn.c,$(SRC_C))
  endif
  NVFLAGS := -O3 -std=c++17 $(NVGENCODE) -Iharness -Iharness/measure -Iharness/workloads -Iharness/output -Ikernels -Igpu -Xcompiler -Wall,-Wextra -MMD -MP
endif
include harness/dist/dist.mk
CPPFLAGS += -DDLBENCH_CFLAGS='"$(strip $(CFLAGS))"' -DDLBENCH_CC='"$(CC)"'

MAIN_OBJ := $(BUILD)/obj/harness/main.o
LIB_OBJ  := $(filter-out $(MAIN_OBJ),$(SRC_C:%.c=$(BUILD)/obj/%.o)) $(SRC_CU:%.cu=$(BUILD)/obj/%.o)
TEST_SRC := $(wildcard tests/*.c)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/obj/%.o)
DLBENCH  := $(BUILD)/dlbench
TESTBIN  := $(BUILD)/dlbench-tests
DEPS_OK  := build/.deps-ok

.PHONY: all deps bench bench-full bench-compare test fuzz clean info-build
.SECONDEXPANSION:
all: info-build $(DLBENCH)

info-build:
	@echo "dlbench build: nvcc=$(or $(NVCC),none$(if $(NO_CUDA), (NO_CUDA=1))) cudnn=$(if $(filter -DHAVE_CUDNN,$(CPPFLAGS)),yes,no)" \
	      "mpi=$(if $(HAVE_MPI),yes,no$(if $(NO_MPI), (NO_MPI=1))) nccl=$(if $(filter -DHAVE_NCCL,$(CPPFLAGS)),yes (dlopen),no)" \
	      "openmp=libgomp openblas=$(OBLAS_DIR) ($(if $(wildcard $(OBLAS_DIR)/libopenblas.so),OpenMP build,MISSING))" \
	      "march=$(MARCH)$(if $(SAN), san=1)"

# The install script runs once, and again whenever it changes.
$(DEPS_OK): scripts/install-deps.sh
	@mkdir -p build
	@scripts/install-deps.sh
	@touch $@
deps: $(DEPS_OK)

$(BUILD)/obj/%.o: %.c | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/%.o: %.cu | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(NVCC) $(NVFLAGS) $(NVDEFS) -c $< -o $@

$(DLBENCH): $(MAIN_OBJ) $(LIB_OBJ)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(TESTBIN): $(TEST_OBJ) $(LIB_OBJ)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -lcriterion -o $@

ifneq ($(MPI_TESTBIN),)
$(MPI_TESTBIN): $(BUILD)/obj/tests/mpi/test_dist.o $(LIB_OBJ)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@
endif

$(BUILD)/obj/tests/%.o: CPPFLAGS += -Itests -DDLBENCH_BIN='"$(abspath $(DLBENCH))"' -DDLBENCH_PRICES_FILE='"$(abspath bench/prices.csv)"'

# CPU tests run in parallel workers; GPU tests (suite names cuda_*) one at a time.
test: $(DLBENCH) $(TESTBIN)
	@scripts/run-tests.sh $(TESTBIN) $(TEST_ARGS)

bench: $(DLBENCH)
	$(DLBENCH) run --suite $(SUITE) $(BENCH_ARGS)

bench-full:
	$(MAKE) bench SUITE=full

bench-compare: $(DLBENCH)
	@test -n "$(BASE)" || { echo "usage: make bench-compare BASE=<run folder>" >&2; exit 2; }
	rm -rf $(BUILD)/compare-run
	$(DLBENCH) run --suite $(SUITE) --out $(BUILD)/compare-run $(BENCH_ARGS)
	$(DLBENCH) compare $(BASE) $(BUILD)/compare-run

# Fuzzing (clang's libFuzzer + ASan/UBSan) of every parser; FUZZ_SECONDS per target. Crashing
# inputs go to tests/fuzz/regressions/<target>/ and are replayed by every `make fuzz`.
FUZZ_TARGETS := cli_values results_csv samples_csv system_json prices idx
FUZZ_SRC_cli_values  := harness/cli.c kernels/dtype.c
FUZZ_SRC_results_csv := harness/output/results.c
FUZZ_SRC_samples_csv := harness/output/results.c
FUZZ_SRC_system_json := harness/output/sysinfo.c
FUZZ_SRC_prices      := harness/output/prices.c harness/output/results.c
FUZZ_SRC_idx         := harness/workloads/dataset.c kernels/rng.c
FUZZ_CC ?= clang
build/fuzz/%: tests/fuzz/fuzz_%.c $$(FUZZ_SRC_$$*) | $(DEPS_OK)
	@mkdir -p build/fuzz
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iharness -Iharness/measure -Iharness/workloads -Iharness/output -Ikernels $^ -o $@

fuzz: $(FUZZ_TARGETS:%=build/fuzz/%)
	@set -e; for t in $(FUZZ_TARGETS); do \
	  mkdir -p build/fuzz/corpus-$$t tests/fuzz/regressions/$$t; \
	  if [ -n "$$(ls tests/fuzz/regressions/$$t)" ]; then build/fuzz/$$t tests/fuzz/regressions/$$t/*; fi; \
	  echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
	  build/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -artifact_prefix=tests/fuzz/regressions/$$t/ \
	    build/fuzz/corpus-$$t tests/fuzz/seeds/$$t > build/fuzz/$$t.log 2>&1 || { tail -40 build/fuzz/$$t.log; exit 1; }; \
	  grep -E 'stat::number_of_executed_units|Done' build/fuzz/$$t.log; \
	done

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
