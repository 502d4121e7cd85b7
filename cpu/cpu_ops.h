/* cpu_ops.h: the CPU backend's operations (OpenMP + OpenBLAS), named <op>_cpu. */
#ifndef DLBENCH_CPU_OPS_H
#define DLBENCH_CPU_OPS_H
#include "dtype.h"

int gemm_cpu(enum dtype dt, int ta, int tb, int m, int n, int k, const void *a, const void *b, float *c);
/* bf16 inputs (uint16), fp32 accumulate and output; vdpbf16ps. 0 ok, -1 when the CPU lacks it. */
int gemm_bf16_cpu(int ta, int tb, int m, int n, int k, const uint16_t *a, const uint16_t *b, float *c);
int gemm_bf16_cpu_available(void);
#endif
