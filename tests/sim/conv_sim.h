/* conv_sim.h: the CUDA backend's implicit-GEMM convolutions (gpu/conv_igemm*.cuh) run on
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
/* dx = backward-data of dy and w by stride phases (dgrad_plan: the sub-filters built by their
 * kernel, then all phases in one launch, as conv_cuda.cu's bwd_data_igemm); 0, or -1 with why. */
int conv_igemm_dgrad_sim(enum dtype dt, const struct conv_shape *s, const void *dy, const void *w, void *dx, char *why, int n);
/* The stride-phase plan of a square h x h input and r x r filter, one axis checked against the
 * definition (each dy row a phase's forward reads is the one the tap reaches; no reaching tap left
 * out; each phase's geometry); the number of mismatches, and the taps and pixels of the phases
 * along that axis (r and h when they partition both), or -1 when there is no plan. */
int conv_dgrad_plan_check(int h, int r, int st, int pad, int dil, int *taps, int *pixels);
/* dw = backward-filter of x and dy, the reduction cut into slices as for a GPU of `sms` SMs (the
 * partials summed in fp32 as the launcher's reduce does); 0, or -1 with why. */
int conv_igemm_wgrad_sim(enum dtype dt, const struct conv_shape *s, int sms, const void *x, const void *dy, void *dw, char *why, int n);
/* Threads resumed in order with cp.async copies landing at their waits (0, the default), or last
 * to first with copies landing at issue (1): the two extremes of what a GPU may do between
 * barriers, so a missing barrier shows in one of them. */
void conv_sim_options(int reverse);
#ifdef __cplusplus
}
#endif
#endif
