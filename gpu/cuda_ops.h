/* cuda_ops.h: the CUDA backend's operations, named <op>_cuda (cuBLAS calls and our launchers). */
#ifndef DLBENCH_CUDA_OPS_H
#define DLBENCH_CUDA_OPS_H
#include "dtype.h"
#ifdef __cplusplus
extern "C" {
#endif
int gemm_cuda(enum dtype dt, int ta, int tb, int m, int n, int k, const void *a, const void *b, float *c);
#ifdef __cplusplus
}
#endif
#endif
