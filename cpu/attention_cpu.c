/* attention_cpu.c: causal attention on the CPU, fp32: per (sequence, head, block of QB query rows)
 * one cblas GEMM for the scores against the keys up to the block's last row only (the causal
 * upper triangle beyond the diagonal block is never computed), a row softmax, one GEMM for ·V.
 * Blocks run in parallel (OpenMP) with single-threaded OpenBLAS calls; a block's scores (QB × T)
 * stay in the thread's L2. The backward recomputes the scores from lse (as flash attention does)
 * and runs per (sequence, head), since dK and dV sum over every query block. */
#include "cpu_ops.h"
#include "vecmath.h"
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <string.h>

#define QB 64   /* query rows per block: scores 64 × T fp32 = 256 KiB at T = 1024 */

static size_t per_thread(const struct attn_shape *s) { return (size_t)2 * QB * s->T + QB; }

size_t attention_workspace_cpu(enum dtype dt, const struct attn_shape *s)
{
    (void)dt;
    return sizeof(float) * per_thread(s) * (size_t)omp_get_max_threads();
}

/* Row r of a block (query t = i0 + r) over keys [0, keys): softmax of the scaled scores for keys
 * <= t (in place), zeros after; returns the row's lse. */
static float softmax_causal_row(float *restrict row, int t, int keys)
{
    float mx = -INFINITY, sum = 0;
    for (int j = 0; j <= t; j++) mx = row[j] > mx ? row[j] : mx;
#pragma omp simd reduction(+ : sum)
    for (int j = 0; j <= t; j++) { row[j] = vexpf(row[j] - mx); sum += row[j]; }
    float inv = 1.0f / sum;
#pragma omp simd
    for (int j = 0; j <= t; j++) row[j] *= inv;
    for (int j = t + 1; j < keys; j++) row[j] = 0;
    return mx + logf(sum);
}

int attention_fwd_cpu(enum dtype dt, const struct attn_shape *s, const void *qv, const void *kv, const void *vv,
                      void *ov, float *lse, void *ws)
{
    if (dt != DT_F32) { cpu_set_error("attention on the CPU is fp32 only"); return -1; }
    const float *q = qv, *k = kv, *v = vv;
    float *o = ov;
    const int T = s->T, d = s->d, nblk = (T + QB - 1) / QB;
    const long tasks = (long)s->B * s->H * nblk;
    const float scale = 1.0f / sqrtf((float)d);
#pragma omp parallel
    {
        float *S = (float *)ws + per_thread(s) * (size_t)omp_get_thread_num();
        /* Late blocks (more keys) first: dynamic scheduling then evens out the tail. */
#pragma omp for schedule(dynamic, 1)
        for (long task = 0; task < tasks; task++) {
            int blk = nblk - 1 - (int)(task % nblk), bh = (int)(task / nblk), b = bh / s->H, h = bh % s->H;
            int i0 = blk * QB, rows = T - i0 < QB ? T - i0 : QB, keys = i0 + rows;
            size_t head = (size_t)b * T * s->ld_in + (size_t)h * d;
            const float *qb = q + head + (size_t)i0 * s->ld_in, *kh = k + head, *vh = v + head;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, keys, d, scale, qb, (int)s->ld_in, kh,
                        (int)s->ld_in, 0.0f, S, keys);
            float *lrow = lse + (size_t)bh * T + i0;
            for (int r = 0; r < rows; r++) lrow[r] = softmax_causal_row(S + (size_t)r * keys, i0 + r, keys);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, d, keys, 1.0f, S, keys, vh, (int)s->ld_in,
                        0.0f, o + (size_t)b * T * s->ld_out + (size_t)h * d + (size_t)i0 * s->ld_out, (int)s->ld_out);
        }
    }
    return 0;
}

/* One head's backward (pointers at the head's first row). P = exp(S - lse) recomputed per block;
 * dS = P ∘ (dP - D) · scale with D = rowsum(dO ∘ O). */
static void head_bwd(const struct attn_shape *s, const float *q, const float *k, const float *v, const float *o,
                     const float *dout, const float *lse, float *dq, float *dk, float *dv, float *S)
{
    const int T = s->T, d = s->d, ldi = (int)s->ld_in, ldo = (int)s->ld_out;
    const float scale = 1.0f / sqrtf((float)d);
    float *dP = S + (size_t)QB * T, *D = dP + (size_t)QB * T;
    for (int t = 0; t < T; t++) {
        memset(dk + (size_t)t * ldi, 0, sizeof(float) * d);
        memset(dv + (size_t)t * ldi, 0, sizeof(float) * d);
    }
    for (int i0 = 0; i0 < T; i0 += QB) {
        int rows = T - i0 < QB ? T - i0 : QB, keys = i0 + rows;
        const float *qb = q + (size_t)i0 * ldi, *ob = o + (size_t)i0 * ldo, *dob = dout + (size_t)i0 * ldo;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, keys, d, scale, qb, ldi, k, ldi, 0.0f, S, keys);
        for (int r = 0; r < rows; r++) {
            float *row = S + (size_t)r * keys, l = lse[i0 + r], acc = 0;
            int t = i0 + r;
#pragma omp simd
            for (int j = 0; j <= t; j++) row[j] = vexpf(row[j] - l);
            for (int j = t + 1; j < keys; j++) row[j] = 0;
#pragma omp simd reduction(+ : acc)
            for (int i = 0; i < d; i++) acc += dob[(size_t)r * ldo + i] * ob[(size_t)r * ldo + i];
            D[r] = acc;
        }
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, keys, d, rows, 1.0f, S, keys, dob, ldo, 1.0f, dv, ldi);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, keys, d, 1.0f, dob, ldo, v, ldi, 0.0f, dP, keys);
        for (int r = 0; r < rows; r++) {
            float *p = S + (size_t)r * keys, *dp = dP + (size_t)r * keys, Dr = D[r];
#pragma omp simd
            for (int j = 0; j < keys; j++) p[j] = p[j] * (dp[j] - Dr) * scale;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, d, keys, 1.0f, S, keys, k, ldi, 0.0f,
                    dq + (size_t)i0 * ldi, ldi);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, keys, d, rows, 1.0f, S, keys, qb, ldi, 1.0f, dk, ldi);
    }
}

int attention_bwd_cpu(enum dtype dt, const struct attn_shape *s, const void *q, const void *k, const void *v,
                      const void *o, const void *dout, const float *lse, void *dq, void *dk, void *dv, void *ws)
{
    if (dt != DT_F32) { cpu_set_error("attention on the CPU is fp32 only"); return -1; }
    const long heads = (long)s->B * s->H;
#pragma omp parallel
    {
        float *S = (float *)ws + per_thread(s) * (size_t)omp_get_thread_num();
#pragma omp for schedule(dynamic, 1)
        for (long bh = 0; bh < heads; bh++) {
            int b = (int)(bh / s->H), h = (int)(bh % s->H);
            size_t in = (size_t)b * s->T * s->ld_in + (size_t)h * s->d, out = (size_t)b * s->T * s->ld_out + (size_t)h * s->d;
            head_bwd(s, (const float *)q + in, (const float *)k + in, (const float *)v + in, (const float *)o + out,
                     (const float *)dout + out, lse + (size_t)bh * s->T, (float *)dq + in, (float *)dk + in,
                     (float *)dv + in, S);
        }
    }
    return 0;
}
