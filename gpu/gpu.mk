# gpu/gpu.mk: the CUDA backend's part of the build, included by the Makefile. Compiled whenever
# nvcc exists under CUDA_HOME (and NO_CUDA is not set); the cuDNN variant whenever the toolkit has
# cudnn.h. Adds to CPPFLAGS, SRC_C, SRC_CU (and CU_OBJ), LDFLAGS and LDLIBS; holds the .cu rule.
CUDA_HOME ?= /usr/local/cuda
CUDA_ARCH ?= 75 80 86 89 90
NVCC := $(if $(NO_CUDA),,$(wildcard $(CUDA_HOME)/bin/nvcc))
comma := ,

ifneq ($(NVCC),)
  CPPFLAGS += -DHAVE_CUDA -I$(CUDA_HOME)/include
  SRC_C    += $(wildcard gpu/*.c)
  SRC_CU   := $(wildcard gpu/*.cu)
  LDFLAGS  += -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64
  LDLIBS   += -lcudart -lstdc++   # libcublas: dlopen'ed at run time (cublas_dl.c)
  ifneq ($(wildcard $(CUDA_HOME)/include/cudnn.h),)
    CPPFLAGS += -DHAVE_CUDNN      # libcudnn is dlopen'ed at run time: never a link dependency
  else
    SRC_C := $(filter-out gpu/backend_cudnn.c gpu/conv_engines_cudnn.c,$(SRC_C))
  endif
  # SASS per listed architecture, plus PTX of the newest so later GPUs JIT it.
  NVGENCODE := $(foreach a,$(CUDA_ARCH),-gencode arch=compute_$(a),code=sm_$(a)) \
               $(if $(CUDA_ARCH),-gencode arch=compute_$(lastword $(CUDA_ARCH))$(comma)code=compute_$(lastword $(CUDA_ARCH)))
  NVFLAGS := -O3 -std=c++17 $(NVGENCODE) $(INC_DIRS:%=-I%) -Xcompiler -Wall,-Wextra -MMD -MP -D_GNU_SOURCE -DHAVE_CUDA
endif

# The .cu objects depend on none of SAN, MARCH or the C flags, so every configuration shares one
# copy per architecture list, build/cuda-obj/sm<list>/ (the sanitizer build does not compile them a
# second time; CI's CUDA_ARCH=75, the release default and gpu-check's sm_90-only kit keep their own
# copies, so switching between them relinks instead of recompiling); they rebuild when nvcc's other
# flags change, recorded in a stamp.
empty :=
space := $(empty) $(empty)
CU_OBJ_DIR := build/cuda-obj/sm$(subst $(space),-,$(strip $(CUDA_ARCH)))
CU_OBJ     := $(SRC_CU:%.cu=$(CU_OBJ_DIR)/%.o)
ifneq ($(NVCC),)
  CU_FLAGS_STAMP := $(CU_OBJ_DIR)/.nvflags
  $(shell mkdir -p $(CU_OBJ_DIR); [ "$$(cat $(CU_FLAGS_STAMP) 2>/dev/null)" = '$(NVFLAGS)' ] || echo '$(NVFLAGS)' > $(CU_FLAGS_STAMP))
endif
$(CU_OBJ_DIR)/%.o: %.cu $(CU_FLAGS_STAMP) | $(PREREQ)
	@mkdir -p $(dir $@)
	$(NVCC) $(NVFLAGS) -c $< -o $@
-include $(wildcard $(CU_OBJ_DIR)/gpu/*.d)
