/* eltwise_ref.h: plain double-precision references for the bandwidth and elementwise ops:
 * STREAM (copy, scale, add, triad, dot) and the deep-learning ones (ReLU, GELU, bias-add, row
 * softmax, row layer-norm, SGD, Adam). x: (rows, cols) row-major where an op has rows. */
#ifndef DLBENCH_ELTWISE_REF_H
#define DLBENCH_ELTWISE_REF_H
#include <stddef.h>
#ifdef __cplusplus
extern "C" {
#endif

#define GELU_K0 0.7978845608028654   /* sqrt(2/pi) */
#define GELU_K1 0.044715

struct adam_hp { float lr, beta1, beta2, eps; int step; };  /* PyTorch's Adam, no weight decay */

double gelu_ref(double x);                 /* tanh form */
double gelu_grad_ref(double x);            /* d gelu / dx */
void softmax_row_ref(int cols, const float *x, double *y);
void layernorm_row_ref(int cols, const float *x, const float *gamma, const float *beta, float eps, double *y);
/* One Adam step on one element; returns the new w and updates *m, *v. */
double adam_ref(const struct adam_hp *h, double w, double g, double *m, double *v);
double dot_ref(size_t n, const float *a, const float *b, double *abs_sum);
#ifdef __cplusplus
}
#endif
#endif
