/* attention_ref.h: ground truth for causal scaled-dot-product attention in double: one head's
 * forward (rows of O and their log-sum-exp) and backward (dQ, dK, dV), and the FLOP count the
 * attention workload and the GPT step use. */
#ifndef DLBENCH_ATTENTION_REF_H
#define DLBENCH_ATTENTION_REF_H
#include <stddef.h>
#ifdef __cplusplus
extern "C" {
#endif

/* Causal attention of B sequences of T tokens, H heads of dimension d, scale 1/sqrt(d).
 * Layout (the one a GPT's fused QKV projection produces, and PyTorch's (B, T, H, d) view of it):
 * element (b, t, h, i) of q, k, v, dq, dk, dv sits at [(b·T + t)·ld_in + h·d + i], of o and do
 * at [(b·T + t)·ld_out + h·d + i]; ld >= H·d (a packed QKV buffer has ld_in = 3·H·d).
 * lse (B, H, T): the natural log of each query row's softmax denominator, scale included. */
struct attn_shape { int B, H, T, d; long ld_in, ld_out; };

/* FLOPs by the causal convention: half of the 4·B·H·T²·d of the full product (Q·Kᵀ and P·V); the
 * backward is 2.5× that (Q·Kᵀ recomputed, then dV, dP, dQ, dK). */
double attention_fwd_flops(const struct attn_shape *s);
double attention_bwd_flops(const struct attn_shape *s);

/* One head: q, k, v (T, d) with row stride ld; rows [r0, r1) of o (row stride ldo) and lse. */
void attention_head_fwd_ref(int T, int d, const double *q, const double *k, const double *v, long ld,
                            int r0, int r1, double *o, long ldo, double *lse);
/* One head's backward restricted to query rows [r0, T): o and lse of those rows (from the forward),
 * dout (stride ldo). Writes dq for rows >= r0, and dk, dv for keys >= r0 (exact: a key only
 * receives gradient from the rows at or after it); entries before r0 are left untouched. */
void attention_head_bwd_ref(int T, int d, const double *q, const double *k, const double *v, long ld,
                            const double *o, const double *dout, long ldo, const double *lse, int r0,
                            double *dq, double *dk, double *dv);
/* Every head of the (B, T, H, d) layout above; lse (B, H, T). */
void attention_fwd_ref(const struct attn_shape *s, const double *q, const double *k, const double *v,
                       double *o, double *lse);
void attention_bwd_ref(const struct attn_shape *s, const double *q, const double *k, const double *v,
                       const double *o, const double *dout, const double *lse, double *dq, double *dk, double *dv);
#ifdef __cplusplus
}
#endif
#endif
