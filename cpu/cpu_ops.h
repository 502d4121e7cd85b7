/* cpu_ops.h: the CPU backend's operations (OpenMP + OpenBLAS), named <op>_cpu. */
#ifndef DLBENCH_CPU_OPS_H
#define DLBENCH_CPU_OPS_H
#include <stddef.h>
#include "dtype.h"
#include "eltwise_ref.h"
#include "conv_ref.h"

int gemm_cpu(enum dtype dt, int ta, int tb, int m, int n, int k, const void *a, const void *b, float *c);
/* bf16 inputs (uint16), fp32 accumulate and output; vdpbf16ps. 0 ok, -1 when the CPU lacks it. */
int gemm_bf16_cpu(int ta, int tb, int m, int n, int k, const uint16_t *a, const uint16_t *b, float *c);
int gemm_bf16_cpu_available(void);

int copy_cpu(size_t n, const float *a, float *b);
int scale_cpu(size_t n, float s, const float *a, float *b);
int add_cpu(size_t n, const float *a, const float *b, float *c);
int triad_cpu(size_t n, float s, const float *b, const float *c, float *a);
int dot_cpu(size_t n, const float *a, const float *b, float *out);
int relu_fwd_cpu(size_t n, const float *x, float *y);
int relu_bwd_cpu(size_t n, const float *x, const float *dy, float *dx);
int gelu_fwd_cpu(size_t n, const float *x, float *y);
int gelu_bwd_cpu(size_t n, const float *x, const float *dy, float *dx);
int bias_add_cpu(int outer, int ch, int inner, const float *x, const float *bias, float *y);
int bias_bwd_cpu(int outer, int ch, int inner, const float *dy, float *db);
int maxpool2_fwd_cpu(int planes, int h, int w, const float *x, float *y, uint8_t *idx);
int maxpool2_bwd_cpu(int planes, int h, int w, const float *dy, const uint8_t *idx, float *dx);
int softmax_xent_cpu(int rows, int cols, const float *z, const int32_t *labels, float *losses, float *loss, float *dz);
int energy_read_cpu(double *joules, char *why, size_t n);
void cpu_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));   /* what error() says */
struct collective_ops;
extern const struct collective_ops cpu_collectives;     /* coll_cpu.c: MPI; built with MPI only */
int softmax_fwd_cpu(int rows, int cols, const float *x, float *y);
int layernorm_fwd_cpu(int rows, int cols, const float *x, const float *gamma, const float *beta, float eps, float *y);
int sgd_update_cpu(size_t n, float lr, float *w, const float *g);
/* Convolution, fp32, NCHW. d = FWD: (a, b) = (x, w) -> y; BWD_DATA: (dy, w) -> dx;
 * BWD_FILTER: (x, dy) -> dw. */
int conv_cpu(enum conv_dir d, const struct conv_shape *s, const float *a, const float *b, float *out);
int conv_fwd_cpu(enum dtype dt, const struct conv_shape *s, const void *x, const void *w, float *y);
int conv_bwd_data_cpu(enum dtype dt, const struct conv_shape *s, const void *dy, const void *w, float *dx);
int conv_bwd_filter_cpu(enum dtype dt, const struct conv_shape *s, const void *x, const void *dy, float *dw);
int fma_peak_cpu(long iters, float *out);          /* fma_peak_flops_per_iter_cpu() FLOPs per iter */
double fma_peak_flops_per_iter_cpu(void);
int adam_update_cpu(size_t n, const struct adam_hp *h, float *w, const float *g, float *m, float *v);
#endif
