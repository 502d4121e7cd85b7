/* eltwise_sim.h: the CUDA backend's bias-add (gpu/bias_add_kernels.cuh) run on the CPU by the
 * simulator (cuda_sim.h), on host memory, with bias_add_cuda's plan (eltwise_cuda.cu). */
#ifndef DLBENCH_ELTWISE_SIM_H
#define DLBENCH_ELTWISE_SIM_H
#include "dtype.h"
#ifdef __cplusplus
extern "C" {
#endif
/* bias_add_cuda's call (y = x + bias: per column where inner == 1, else per row mod ch) as for a
 * GPU of `sms` SMs; *path: 2 the 16-byte path with 16-byte bias loads, 1 with scalar bias loads,
 * 0 the one-element path. 0, or -1 with why. */
int bias_add_sim(enum dtype dt, int outer, int ch, int inner, const void *x, const float *bias, void *y, int sms, int *path,
                 char *why, int n);
#ifdef __cplusplus
}
#endif
#endif
