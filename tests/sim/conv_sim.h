/* conv_sim.h: the CUDA backend's implicit-GEMM forward convolution (gpu/conv_igemm.cuh) run on
 * the CPU by the simulator (cuda_sim.h), on host memory, with conv_cuda.cu's grid and shared
 * memory. */
#ifndef DLBENCH_CONV_SIM_H
#define DLBENCH_CONV_SIM_H
#include "conv_ref.h"
#include "dtype.h"
#ifdef __cplusplus
extern "C" {
#endif
/* y = forward convolution of x with w (NCHW, dt fp32, bf16 or fp16 storage; fp32 runs the FFMA
 * kernel of conv_igemm_f32.cuh); 0, or -1 with why. */
int conv_igemm_fwd_sim(enum dtype dt, const struct conv_shape *s, const void *x, const void *w, void *y, char *why, int n);
/* dw = backward-filter of x and dy, the reduction cut into slices as for a GPU of `sms` SMs (the
 * partials summed in fp32 as the launcher's reduce does); 0, or -1 with why. */
int conv_igemm_wgrad_sim(enum dtype dt, const struct conv_shape *s, int sms, const void *x, const void *dy, void *dw, char *why, int n);
#ifdef __cplusplus
}
#endif
#endif
