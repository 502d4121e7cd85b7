/* cuda_ops.h: the CUDA backend's operations, named <op>_cuda (cuBLAS calls and our launchers);
 * signatures and layouts as in harness/backend.h. */
#ifndef DLBENCH_CUDA_OPS_H
#define DLBENCH_CUDA_OPS_H
#include <stddef.h>
#include <stdint.h>
#include "dtype.h"
#include "eltwise_ref.h"
#include "conv_ref.h"
#include "attention_ref.h"
#include "gpt_ref.h"
#ifdef __cplusplus
extern "C" {
#endif
struct collective_ops;
extern const struct collective_ops nccl_collectives;   /* coll_nccl.c: built with MPI and nccl.h */
extern int cudnn_conv_layout;   /* backend_cudnn.c, built with cudnn.h: -1 measured; 0 find NCHW, 1 find NHWC, 2 graph NCHW, 3 graph NHWC (tests) */
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
/* fp32 and fp16/bf16 convolutions (the forward, the stride-1 backward-data, the backward-filter):
 * 0 times the implicit GEMM against im2col + cuBLAS per geometry and keeps the faster (the
 * default), 1 forces im2col, 2 the implicit GEMM (DLBENCH_CONV_PATH=im2col|igemm does the same);
 * whether this GPU has the 16-bit implicit GEMM (sm_80+; the fp32 one runs anywhere). */
void conv_cuda_force_path(int path);
int conv_cuda_has_igemm(void);
/* Per batch item, src (rows, cols) -> dst (cols, rows) in dt's storage: NCHW <-> NHWC with rows C
 * and cols H·W (or back with them swapped), filters (K, C, R·S) -> (K, R·S, C). Async on the stream. */
int conv_layout_cuda(enum dtype dt, int batch, int rows, int cols, const void *src, void *dst);

/* Attention (backend.h's attention_ops): the batched-GEMM path (attention_cuda.cu) and the fused
 * flash-style kernels of the flash variant (flash_cuda.cu, sm_80+, fp16/bf16). */
size_t attention_workspace_cuda(enum dtype dt, const struct attn_shape *s);
int attention_fwd_cuda(enum dtype dt, const struct attn_shape *s, const void *q, const void *k, const void *v, void *o,
                       float *lse, void *ws);
int attention_bwd_cuda(enum dtype dt, const struct attn_shape *s, const void *q, const void *k, const void *v, const void *o,
                       const void *dout, const float *lse, void *dq, void *dk, void *dv, void *ws);
size_t attention_workspace_flash(enum dtype dt, const struct attn_shape *s);
int attention_fwd_flash(enum dtype dt, const struct attn_shape *s, const void *q, const void *k, const void *v, void *o,
                        float *lse, void *ws);
int attention_bwd_flash(enum dtype dt, const struct attn_shape *s, const void *q, const void *k, const void *v, const void *o,
                        const void *dout, const float *lse, void *dq, void *dk, void *dv, void *ws);
/* The fused kernels load shared-memory fragments with ldmatrix (1) or plain loads (0); both give
 * bit-identical results, which the flash variant's probe checks before it trusts ldmatrix. */
void flash_use_ldmatrix(int on);
/* The fused kernels' variants: the forward's 16 or 32 query rows per warp (every head size), the
 * backward's 4 warps of 16 keys, 128 keys a block (d = 64, 128) or split layout (d = 64, 128):
 * 0 times those a shape has and keeps the fastest (the default), 1, 2 or 3 forces that one in both
 * passes (the forward's 2 for 3; DLBENCH_FLASH_MT=1|2 / DLBENCH_FLASH_KT=1|2|3 force one pass); the
 * last forward's and backward's choice in words. */
void flash_force_mt(int mt);
const char *flash_fwd_note(void);
const char *flash_bwd_note(void);
int flash_uses_ldmatrix(void);

/* The GPT step's layers (backend.h's transformer_ops), transformer_cuda.cu. */
int xf_gemm_cuda(enum dtype dt, enum dtype out, int ta, int tb, int m, int n, int k, const void *a, const void *b, void *c);
int xf_embed_fwd_cuda(enum dtype dt, int B, int T, int C, int V, const int32_t *tok, const float *wte, const float *wpe, void *y);
int xf_embed_bwd_cuda(enum dtype dt, int B, int T, int C, int V, const int32_t *tok, const void *dy, float *dwte, float *dwpe);
int xf_layernorm_fwd_cuda(enum dtype dt, int rows, int C, const void *x, const float *gamma, const float *beta, void *y,
                          float *mean, float *rstd);
int xf_layernorm_bwd_cuda(enum dtype dt, int rows, int C, const void *x, const float *gamma, const float *mean,
                          const float *rstd, const void *dy, void *dx, int acc, float *dgamma, float *dbeta);
int xf_bias_add_cuda(enum dtype dt, int rows, int n, void *y, const float *bias);
int xf_bias_gelu_cuda(enum dtype dt, int rows, int n, void *h, const float *bias, void *g);
int xf_bias_residual_cuda(enum dtype dt, int rows, int n, const void *y, const float *bias, const void *res, void *out);
int xf_gelu_bwd_cuda(enum dtype dt, size_t n, const void *h, const void *dg, void *dh);
int xf_bias_grad_cuda(enum dtype dt, int rows, int n, const void *dy, float *db);
int xf_xent_cuda(enum dtype dt, int rows, int V, int Vp, void *z, const int32_t *targets, float *losses, float *loss);
int adamw_update_cuda(size_t n, const struct adamw_hp *h, float *w, const float *g, float *m, float *v, float *state,
                      enum dtype dt, void *w_lp);
int xf_cast_cuda(enum dtype dt, size_t n, const float *x, void *y);
/* Inputs generated on the GPU (kernels/cbrng.h) and outputs scanned there (device_ops). */
int fill_cuda(void *dst, enum dtype dt, size_t n, uint64_t key, float lo, float hi);
int scan_nonfinite_cuda(const void *src, enum dtype dt, size_t n, size_t *count, size_t *first);
#ifdef __cplusplus
}
#endif
#endif
