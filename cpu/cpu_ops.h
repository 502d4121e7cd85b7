/* cpu_ops.h: the CPU backend's operations (OpenMP + OpenBLAS), named <op>_cpu. */
#ifndef DLBENCH_CPU_OPS_H
#define DLBENCH_CPU_OPS_H
#include <stddef.h>
#include <stdint.h>
#include "dtype.h"
#include "eltwise_ref.h"
#include "conv_ref.h"
#include "attention_ref.h"
#include "gpt_ref.h"
#include "backend.h"

/* The CPU backend's tables that its vendor variant (onednn) shares, and its error message. */
extern const struct device_ops cpu_device;
extern const struct eltwise_ops cpu_eltwise;
extern const struct train_ops cpu_train;
void cpu_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* What the last GEMM, convolution or attention call ran ("OpenBLAS sgemm (Cooperlake)"); NULL before any. */
enum cpu_op_impl { CPU_IMPL_NONE, CPU_IMPL_SGEMM, CPU_IMPL_BF16_KERNEL, CPU_IMPL_AMX_KERNEL, CPU_IMPL_IM2COL_SGEMM, CPU_IMPL_ATTENTION };
extern enum cpu_op_impl cpu_last_impl;
const char *cpu_impl(void);

/* Host memory for the CPU side (free() releases it): 64-byte-aligned, page-aligned from a page,
 * 2 MiB-aligned with transparent huge pages asked for from 4 MiB (scratch_cpu.c says why). NULL
 * when memory runs out. */
void *alloc_cpu(size_t bytes);
/* A grow-only fp32 work buffer from alloc_cpu: allocated by a shape's first (untimed) call, so
 * timed calls neither allocate nor fault pages. NULL (and empty) when memory runs out. */
struct scratch_cpu { float *p; size_t n; };
float *scratch_grow_cpu(struct scratch_cpu *s, size_t n);

int gemm_cpu(enum dtype dt, int ta, int tb, int m, int n, int k, const void *a, const void *b, float *c);
/* fp32 runs one of four ways, chosen per shape and thread count by measurement (gemm_cpu.c):
 * OpenBLAS (its own threads), one OpenBLAS call per thread on a tile of C, dlbench's own
 * kernel (AVX-512 or AVX2), or that kernel on 192-deep slices (from 4 threads); gemm_cpu_way -1
 * (default), or 0 / 1 / 2 / 3 to force one of them where it can run (tests).
 * gemm_cpu_note: what the last fp32 call ran, and the times of the ways timed at its first call. */
extern int gemm_cpu_way;
const char *gemm_cpu_note(void);
/* fp32 C = op(A)·op(B) by dlbench's own kernel (gemm_own_cpu.c) on the widest of AVX-512 and
 * AVX2 + FMA the CPU has, row-major, packed leading dimensions, k in slices of kc_slice (16..2048;
 * else the set's default); -1 when the CPU has neither or packing memory cannot be had. */
int gemm_own_cpu(int kc_slice, int ta, int tb, int m, int n, int k, const float *a, const float *b, float *c);
/* The same with leading dimensions (row-major: lda is op(A)'s stored row length), and C += op(A)·op(B)
 * when accumulate (conv_cpu.c's tiles and its backward-filter sums). */
int gemm_own_cpu_ld(int kc_slice, int ta, int tb, int m, int n, int k, const float *a, long lda, const float *b, long ldb,
                    int accumulate, float *c, long ldc);
/* op(A) (m x k) packed once for many products (conv_cpu.c: the filter, the same for every image):
 * the floats it takes (0: no own kernel), the packing into ap (64-byte aligned; -1: no own kernel),
 * and C (+)= A·op(B) from it (default slices; lda and ta were the packing's). */
size_t gemm_own_cpu_packed_size(int m, int k);
int gemm_own_cpu_pack(int ta, int m, int k, const float *a, long lda, float *ap);
int gemm_own_cpu_packed(int m, int n, int k, const float *ap, int tb, const float *b, long ldb, int accumulate, float *c, long ldc);
int gemm_own_cpu_available(void);
/* "AVX2 sgemm kernel (6x16)": the set the kernel runs on and its register tile. */
const char *gemm_own_cpu_name(void);
/* Tests: 0 (default) the widest set; 256 or 512 forces AVX2 or AVX-512 (unavailable: -1 above). */
extern int gemm_own_cpu_isa;
/* bf16 inputs (uint16), fp32 accumulate and output; vdpbf16ps. 0 ok, -1 when the CPU lacks it. */
int gemm_bf16_cpu(int ta, int tb, int m, int n, int k, const uint16_t *a, const uint16_t *b, float *c);
int gemm_bf16_cpu_available(void);
/* The same on AMX tiles (tdpbf16ps); -1 when the CPU or OS does not grant them. */
int gemm_amx_cpu(int ta, int tb, int m, int n, int k, const uint16_t *a, const uint16_t *b, float *c);
int gemm_amx_cpu_available(void);

/* Elementwise ops with a dtype (backend.h): fp32 only on the CPU, -1 for any other dt. */
int copy_cpu(enum dtype dt, size_t n, const void *a, void *b);
int scale_cpu(enum dtype dt, size_t n, float s, const void *a, void *b);
int add_cpu(enum dtype dt, size_t n, const void *a, const void *b, void *c);
int triad_cpu(enum dtype dt, size_t n, float s, const void *b, const void *c, void *a);
int dot_cpu(size_t n, const float *a, const float *b, float *out);
int relu_fwd_cpu(enum dtype dt, size_t n, const void *x, void *y);
int relu_bwd_cpu(enum dtype dt, size_t n, const void *x, const void *dy, void *dx);
int gelu_fwd_cpu(enum dtype dt, size_t n, const void *x, void *y);
int gelu_bwd_cpu(enum dtype dt, size_t n, const void *x, const void *dy, void *dx);
int bias_add_cpu(enum dtype dt, int outer, int ch, int inner, const void *x, const float *bias, void *y);
int cast_cpu(size_t n, enum dtype from, const void *x, enum dtype to, void *y);
int bias_bwd_cpu(int outer, int ch, int inner, const float *dy, float *db);
int maxpool2_fwd_cpu(int planes, int h, int w, const float *x, float *y, uint8_t *idx);
int maxpool2_bwd_cpu(int planes, int h, int w, const float *dy, const uint8_t *idx, float *dx);
int softmax_xent_cpu(int rows, int cols, const float *z, const int32_t *labels, float *losses, float *loss, float *dz);
int energy_read_cpu(double *joules, char *why, size_t n);
int softmax_fwd_cpu(enum dtype dt, int rows, int cols, const void *x, void *y);
int layernorm_fwd_cpu(enum dtype dt, int rows, int cols, const void *x, const float *gamma, const float *beta, float eps, void *y);
/* Outputs of ops whose arrays together exceed this many bytes are written by streaming stores
 * (eltwise_cpu.c); 0 (the default): the last-level cache. For the tests. */
void eltwise_stream_above_cpu(size_t bytes);
struct collective_ops;
extern const struct collective_ops cpu_collectives;     /* coll_cpu.c: MPI; built with MPI only */
int sgd_update_cpu(size_t n, float lr, float *w, const float *g);
/* Convolution, fp32, NCHW. d = FWD: (a, b) = (x, w) -> y; BWD_DATA: (dy, w) -> dx;
 * BWD_FILTER: (x, dy) -> dw. */
int conv_cpu(enum conv_dir d, const struct conv_shape *s, const float *a, const float *b, float *out);
/* conv_cpu's GEMMs run on OpenBLAS or on dlbench's AVX-512 kernel, whichever a shape's first calls
 * measured faster (the whole convolution timed both ways); conv_cpu_way -1 (default), 0 OpenBLAS or
 * 1 the kernel where the CPU has it (tests). conv_cpu_note: what the last call ran, with the times. */
extern int conv_cpu_way;
const char *conv_cpu_note(void);
int conv_fwd_cpu(enum dtype dt, const struct conv_shape *s, const void *x, const void *w, void *y);
int conv_bwd_data_cpu(enum dtype dt, const struct conv_shape *s, const void *dy, const void *w, void *dx);
int conv_bwd_filter_cpu(enum dtype dt, const struct conv_shape *s, const void *x, const void *dy, void *dw);
/* Ceiling loops, dispatched at run time: fp32 FMA (AVX-512, AVX2, SSE), bf16 (AMX, AVX512-BF16). */
int peak_cpu(enum dtype dt, long iters, float *out);   /* peak_flops_per_iter_cpu(dt) FLOPs per iter */
double peak_flops_per_iter_cpu(enum dtype dt);
const char *peak_path_cpu(enum dtype dt);
int adam_update_cpu(size_t n, const struct adam_hp *h, float *w, const float *g, float *m, float *v);

/* Attention (attention_cpu.c) and the GPT step's layers (transformer_cpu.c): backend.h's
 * attention_ops and transformer_ops, fp32. */
size_t attention_workspace_cpu(enum dtype dt, const struct attn_shape *s);
/* The GEMMs' way: -1 (default) the faster of OpenBLAS and the own kernel, timed per shape at its
 * first call; 0 or 1 forces one (tests). The last call's note for the row's impl. */
extern int attention_cpu_way;
const char *attention_cpu_note(void);
int attention_fwd_cpu(enum dtype dt, const struct attn_shape *s, const void *q, const void *k, const void *v, void *o,
                      float *lse, void *ws);
int attention_bwd_cpu(enum dtype dt, const struct attn_shape *s, const void *q, const void *k, const void *v, const void *o,
                      const void *dout, const float *lse, void *dq, void *dk, void *dv, void *ws);
int xf_gemm_cpu(enum dtype dt, enum dtype out, int ta, int tb, int m, int n, int k, const void *a, const void *b, void *c);
int xf_embed_fwd_cpu(enum dtype dt, int B, int T, int C, int V, const int32_t *tok, const float *wte, const float *wpe, void *y);
int xf_embed_bwd_cpu(enum dtype dt, int B, int T, int C, int V, const int32_t *tok, const void *dy, float *dwte, float *dwpe);
int xf_layernorm_fwd_cpu(enum dtype dt, int rows, int C, const void *x, const float *gamma, const float *beta, void *y,
                         float *mean, float *rstd);
int xf_layernorm_bwd_cpu(enum dtype dt, int rows, int C, const void *x, const float *gamma, const float *mean,
                         const float *rstd, const void *dy, void *dx, int acc, float *dgamma, float *dbeta);
int xf_bias_add_cpu(enum dtype dt, int rows, int n, void *y, const float *bias);
int xf_bias_gelu_cpu(enum dtype dt, int rows, int n, void *h, const float *bias, void *g);
int xf_bias_residual_cpu(enum dtype dt, int rows, int n, const void *y, const float *bias, const void *res, void *out);
int xf_gelu_bwd_cpu(enum dtype dt, size_t n, const void *h, const void *dg, void *dh);
int xf_bias_grad_cpu(enum dtype dt, int rows, int n, const void *dy, float *db);
int xf_xent_cpu(enum dtype dt, int rows, int V, int Vp, void *z, const int32_t *targets, float *losses, float *loss);
int adamw_update_cpu(size_t n, const struct adamw_hp *h, float *w, const float *g, float *m, float *v, float *state,
                     enum dtype dt, void *w_lp);
int xf_cast_cpu(enum dtype dt, size_t n, const float *x, void *y);
/* Inputs generated in place and outputs scanned in place (device_ops.fill / scan_nonfinite). */
int fill_cpu(void *dst, enum dtype dt, size_t n, uint64_t key, float lo, float hi);
int scan_nonfinite_cpu(const void *src, enum dtype dt, size_t n, size_t *count, size_t *first);
/* Frequencies: up to max cores' current MHz (the count; *src says where from), the governor. */
struct dev_state;
int cpu_core_mhz(double *mhz, int max, const char **src);
void cpu_governor(char *buf, size_t n);
void state_read_cpu(struct dev_state *s);
#endif
