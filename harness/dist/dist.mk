# harness/dist/dist.mk (included by the Makefile): MPI for multi-process runs, built whenever MPI's C
# compiler wrapper or pkg-config file is found (NO_MPI=1 leaves it out): HAVE_MPI, the MPI transport of
# harness/dist, the CPU backend's MPI collectives and the MPI test script of `make test`. With the CUDA
# backend and NCCL's header also the NCCL collectives (libnccl is dlopen'ed at run time, never linked).
MPICC ?= $(shell command -v mpicc 2>/dev/null)
ifeq ($(NO_MPI),)
  ifneq ($(shell pkg-config --exists mpi-c 2>/dev/null && echo yes),)
    MPI_CFLAGS := $(shell pkg-config --cflags mpi-c)
    MPI_LIBS   := $(shell pkg-config --libs mpi-c)
  else ifneq ($(MPICC),)
    MPI_CFLAGS := $(shell $(MPICC) --showme:compile 2>/dev/null)
    MPI_LIBS   := $(shell $(MPICC) --showme:link 2>/dev/null)
  endif
endif
ifneq ($(MPI_LIBS),)
  HAVE_MPI := 1
  CPPFLAGS += -DHAVE_MPI $(MPI_CFLAGS)
  LDLIBS   += $(MPI_LIBS)
  SRC_C    := $(filter-out harness/dist/dist_local.c,$(SRC_C))
  ifneq ($(NVCC),)
    ifneq ($(wildcard $(CUDA_HOME)/include/nccl.h),)
      CPPFLAGS += -DHAVE_NCCL
    else
      SRC_C := $(filter-out gpu/coll_nccl.c,$(SRC_C))
    endif
  endif
  MPI_TESTBIN := $(BUILD)/dlbench-mpi-tests
  test: $(MPI_TESTBIN)
  test: export DLBENCH_MPI_TESTS = tests/mpi/run-mpi-tests.sh $(abspath $(MPI_TESTBIN))
else
  BUILD := $(BUILD)/nompi
  SRC_C := $(filter-out harness/dist/dist_mpi.c cpu/coll_cpu.c gpu/coll_nccl.c,$(SRC_C))
endif
