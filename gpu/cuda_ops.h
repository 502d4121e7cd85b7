/* cuda_ops.h: the CUDA backend's operations, named <op>_cuda (cuBLAS calls and our launchers);
 * signatures and layouts as in harness/backend.h. */
#ifndef DLBENCH_CUDA_OPS_H
#define DLBENCH_CUDA_OPS_H
#include <stddef.h>
#include <stdint.h>
#include "dtype.h"
#include "eltwise_ref.h"
#include "conv_ref.h"
#ifdef __cplusplus
extern "C" {
#endif
int gemm_cuda(enum dtype dt, int ta, int tb, int m, int n, int k, const void *a, const void *b, float *c);
/* Elementwise: arrays in dt's storage (fp32, fp16, bf16), fp32 arithmetic. */
int copy_cuda(enum dtype dt, size_t n, const void *a, void *b);
int scale_cuda(enum dtype dt, size_t n, float s, const void *a, void *b);
int add_cuda(enum dtype dt, size_t n, const void *a, const void *b, void *c);
int triad_cuda(enum dtype dt, size_t n, float s, const void *b, const void *c, void *a);
int dot_cuda(size_t n, const float *a, const float *b, float *out);
int relu_fwd_cuda(enum dtype dt, size_t n, const void *x, void *y);
int relu_bwd_cuda(enum dtype dt, size_t n, const void *x, const void *dy, void *dx);
int gelu_fwd_cuda(enum dtype dt, size_t n, const void *x, void *y);
int gelu_bwd_cuda(enum dtype dt, size_t n, const void *x, const void *dy, void *dx);
int bias_add_cuda(enum dtype dt, int outer, int ch, int inner, const void *x, const float *bias, void *y);
int softmax_fwd_cuda(enum dtype dt, int rows, int cols, const void *x, void *y);
int layernorm_fwd_cuda(enum dtype dt, int rows, int cols, const void *x, const float *gamma, const float *beta, float eps, void *y);
int sgd_update_cuda(size_t n, float lr, float *w, const float *g);
int adam_update_cuda(size_t n, const struct adam_hp *h, float *w, const float *g, float *m, float *v);
int cast_cuda(size_t n, enum dtype from, const void *x, enum dtype to, void *y);
/* Training-step layers */
int bias_bwd_cuda(int outer, int ch, int inner, const float *dy, float *db);
int maxpool2_fwd_cuda(int planes, int h, int w, const float *x, float *y, uint8_t *idx);
int maxpool2_bwd_cuda(int planes, int h, int w, const float *dy, const uint8_t *idx, float *dx);
int softmax_xent_cuda(int rows, int cols, const float *z, const int32_t *labels, float *losses, float *loss, float *dz);
int next_batch_cuda(int32_t *step, int nbatches, int batch, size_t xlen, const float *xs, const int32_t *ys, float *x, int32_t *y);
int adam_update_dev_cuda(size_t n, const struct adam_hp *h, const int32_t *step, float *w, const float *g, float *m, float *v);
/* d = FWD: (a, b) = (x, w) -> y; BWD_DATA: (dy, w) -> dx; BWD_FILTER: (x, dy) -> dw. Inputs and
 * output in dt's storage, fp32 accumulation. */
int conv_cuda(enum conv_dir d, enum dtype dt, const struct conv_shape *s, const void *a, const void *b, void *out);
int conv_fwd_cuda(enum dtype dt, const struct conv_shape *s, const void *x, const void *w, void *y);
int conv_bwd_data_cuda(enum dtype dt, const struct conv_shape *s, const void *dy, const void *w, void *dx);
int conv_bwd_filter_cuda(enum dtype dt, const struct conv_shape *s, const void *x, const void *dy, void *dw);
#ifdef __cplusplus
}
#endif
#endif
