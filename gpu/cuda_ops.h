/* cuda_ops.h: the CUDA backend's operations, named <op>_cuda (cuBLAS calls and our launchers). */
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
struct collective_ops;
extern const struct collective_ops nccl_collectives;   /* coll_nccl.c: built with MPI and nccl.h */
int gemm_cuda(enum dtype dt, int ta, int tb, int m, int n, int k, const void *a, const void *b, float *c);
int copy_cuda(size_t n, const float *a, float *b);
int scale_cuda(size_t n, float s, const float *a, float *b);
int add_cuda(size_t n, const float *a, const float *b, float *c);
int triad_cuda(size_t n, float s, const float *b, const float *c, float *a);
int dot_cuda(size_t n, const float *a, const float *b, float *out);
int relu_fwd_cuda(size_t n, const float *x, float *y);
int relu_bwd_cuda(size_t n, const float *x, const float *dy, float *dx);
int gelu_fwd_cuda(size_t n, const float *x, float *y);
int gelu_bwd_cuda(size_t n, const float *x, const float *dy, float *dx);
int bias_add_cuda(int outer, int ch, int inner, const float *x, const float *bias, float *y);
int bias_bwd_cuda(int outer, int ch, int inner, const float *dy, float *db);
int maxpool2_fwd_cuda(int planes, int h, int w, const float *x, float *y, uint8_t *idx);
int maxpool2_bwd_cuda(int planes, int h, int w, const float *dy, const uint8_t *idx, float *dx);
int softmax_xent_cuda(int rows, int cols, const float *z, const int32_t *labels, float *losses, float *loss, float *dz);
int softmax_fwd_cuda(int rows, int cols, const float *x, float *y);
int layernorm_fwd_cuda(int rows, int cols, const float *x, const float *gamma, const float *beta, float eps, float *y);
int sgd_update_cuda(size_t n, float lr, float *w, const float *g);
/* d = FWD: (a, b) = (x, w) -> y; BWD_DATA: (dy, w) -> dx; BWD_FILTER: (x, dy) -> dw. Inputs in
 * dt's storage, fp32 output. */
int conv_cuda(enum conv_dir d, enum dtype dt, const struct conv_shape *s, const void *a, const void *b, float *out);
int conv_fwd_cuda(enum dtype dt, const struct conv_shape *s, const void *x, const void *w, float *y);
int conv_bwd_data_cuda(enum dtype dt, const struct conv_shape *s, const void *dy, const void *w, float *dx);
int conv_bwd_filter_cuda(enum dtype dt, const struct conv_shape *s, const void *x, const void *dy, float *dw);
int adam_update_cuda(size_t n, const struct adam_hp *h, float *w, const float *g, float *m, float *v);
#ifdef __cplusplus
}
#endif
#endif
