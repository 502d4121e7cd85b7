/* attention_cpu.c: causal attention on the CPU, fp32: per (sequence, head, block of QB query rows)
 * one GEMM for the scores against the keys up to the block's last row only (the causal upper
 * triangle beyond the diagonal block is never computed), a row softmax, one GEMM for ·V. Blocks
 * run in parallel (OpenMP) with single-threaded GEMMs; a block's scores (QB × T) stay in the
 * thread's L2. The backward recomputes the scores from lse (as flash attention does) and runs per
 * (sequence, head), since dK and dV sum over every query block. The scores are unscaled (the
 * 1/sqrt(d) goes into the exponent), so every GEMM is a plain or accumulating product, which both
 * OpenBLAS and dlbench's own kernel (gemm_own_cpu.c) run: the faster of the two for the whole call
 * is chosen per shape by timing at its first call, as conv_cpu.c does (the own kernel was 1.01-1.15x
 * on the quick suite's cases, timed so, 2-vCPU Zen 3, 2 threads: these GEMMs are small, NT-shaped). */
#include "choose_cpu.h"
#include "cpu_ops.h"
#include "vecmath.h"
#include <math.h>
#include <omp.h>
#include <string.h>

int attention_cpu_way = -1;
static struct gemm_way_cpu way;   /* OpenBLAS or the own kernel, per shape */

static void sgemm(int ta, int tb, int m, int n, int k, const float *a, int lda, const float *b, int ldb, int acc, float *c, int ldc)
{
    gemm_way_sgemm_cpu(&way, ta, tb, m, n, k, a, lda, b, ldb, acc, c, ldc);
}

#define QB 64   /* query rows per block: scores 64 × T fp32 = 256 KiB at T = 1024 */

static size_t per_thread(const struct attn_shape *s) { return (size_t)2 * QB * s->T + QB; }

size_t attention_workspace_cpu(enum dtype dt, const struct attn_shape *s)
{
    (void)dt;
    return sizeof(float) * per_thread(s) * (size_t)omp_get_max_threads();
}

/* Row r of a block (query t = i0 + r) over keys [0, keys): softmax of the scores times scale for
 * keys <= t (in place), zeros after; returns the row's lse (of the scaled scores). */
static float softmax_causal_row(float *restrict row, int t, int keys, float scale)
{
    float mx = -INFINITY, sum = 0;
    /* simd: without it GCC keeps the max a scalar chain (a NaN's trap), as dear as the expf */
#pragma omp simd reduction(max : mx)
    for (int j = 0; j <= t; j++) mx = row[j] > mx ? row[j] : mx;
#pragma omp simd reduction(+ : sum)
    for (int j = 0; j <= t; j++) { row[j] = vexpf(scale * (row[j] - mx)); sum += row[j]; }
    float inv = 1.0f / sum;
#pragma omp simd
    for (int j = 0; j <= t; j++) row[j] *= inv;
    for (int j = t + 1; j < keys; j++) row[j] = 0;
    return scale * mx + logf(sum);
}

static void fwd_run(const struct attn_shape *s, const float *q, const float *k, const float *v, float *o, float *lse, void *ws)
{
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
            sgemm(0, 1, rows, keys, d, qb, (int)s->ld_in, kh, (int)s->ld_in, 0, S, keys);
            float *lrow = lse + (size_t)bh * T + i0;
            for (int r = 0; r < rows; r++) lrow[r] = softmax_causal_row(S + (size_t)r * keys, i0 + r, keys, scale);
            sgemm(0, 0, rows, d, keys, S, keys, vh, (int)s->ld_in, 0,
                  o + (size_t)b * T * s->ld_out + (size_t)h * d + (size_t)i0 * s->ld_out, (int)s->ld_out);
        }
    }
}

/* One head's backward (pointers at the head's first row). P = exp(scale·S - lse) recomputed per
 * block; dS = P ∘ (dP - D) · scale with D = rowsum(dO ∘ O). */
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
        sgemm(0, 1, rows, keys, d, qb, ldi, k, ldi, 0, S, keys);
        for (int r = 0; r < rows; r++) {
            float *row = S + (size_t)r * keys, l = lse[i0 + r], acc = 0;
            int t = i0 + r;
#pragma omp simd
            for (int j = 0; j <= t; j++) row[j] = vexpf(scale * row[j] - l);
            for (int j = t + 1; j < keys; j++) row[j] = 0;
#pragma omp simd reduction(+ : acc)
            for (int i = 0; i < d; i++) acc += dob[(size_t)r * ldo + i] * ob[(size_t)r * ldo + i];
            D[r] = acc;
        }
        sgemm(1, 0, keys, d, rows, S, keys, dob, ldo, 1, dv, ldi);
        sgemm(0, 1, rows, keys, d, dob, ldo, v, ldi, 0, dP, keys);
        for (int r = 0; r < rows; r++) {
            float *p = S + (size_t)r * keys, *dp = dP + (size_t)r * keys, Dr = D[r];
#pragma omp simd
            for (int j = 0; j < keys; j++) p[j] = p[j] * (dp[j] - Dr) * scale;
        }
        sgemm(0, 0, rows, d, keys, S, keys, k, ldi, 0, dq + (size_t)i0 * ldi, ldi);
        sgemm(1, 0, keys, d, rows, S, keys, qb, ldi, 1, dk, ldi);
    }
}

static void bwd_run(const struct attn_shape *s, const float *q, const float *k, const float *v, const float *o,
                    const float *dout, const float *lse, float *dq, float *dk, float *dv, void *ws)
{
    const long heads = (long)s->B * s->H;
#pragma omp parallel
    {
        float *S = (float *)ws + per_thread(s) * (size_t)omp_get_thread_num();
#pragma omp for schedule(dynamic, 1)
        for (long bh = 0; bh < heads; bh++) {
            int b = (int)(bh / s->H), h = (int)(bh % s->H);
            size_t in = (size_t)b * s->T * s->ld_in + (size_t)h * s->d, out = (size_t)b * s->T * s->ld_out + (size_t)h * s->d;
            head_bwd(s, q + in, k + in, v + in, o + out, dout + out, lse + (size_t)bh * s->T, dq + in, dk + in, dv + in, S);
        }
    }
}

/* One call's arguments, for gemm_way_call_cpu's runs: the forward writes o and lse; the backward
 * (dout set) reads o_in and lse_in and writes dq, dk, dv. */
struct attn_call {
    const struct attn_shape *s;
    const float *q, *k, *v;
    float *o, *lse;
    const float *o_in, *dout, *lse_in;
    float *dq, *dk, *dv;
    void *ws;
};
static int run_call(void *p)
{
    const struct attn_call *x = p;
    if (x->dout) bwd_run(x->s, x->q, x->k, x->v, x->o_in, x->dout, x->lse_in, x->dq, x->dk, x->dv, x->ws);
    else fwd_run(x->s, x->q, x->k, x->v, x->o, x->lse, x->ws);
    return 0;
}

static int attention_cpu(struct attn_call *x)
{
    cpu_last_impl = CPU_IMPL_ATTENTION;
    const struct attn_shape *s = x->s;
    int key[] = {x->dout != NULL, s->B, s->H, s->T, s->d, (int)s->ld_in, (int)s->ld_out, omp_get_max_threads()};
    return gemm_way_call_cpu(&way, attention_cpu_way, key, 8, run_call, x);
}

const char *attention_cpu_note(void)
{
    static char note[160];
    return gemm_way_note_cpu(&way, "", note, sizeof note);
}

int attention_fwd_cpu(enum dtype dt, const struct attn_shape *s, const void *q, const void *k, const void *v, void *o,
                      float *lse, void *ws)
{
    if (dt != DT_F32) { cpu_set_error("attention on the CPU is fp32 only"); return -1; }
    struct attn_call x = {.s = s, .q = q, .k = k, .v = v, .o = o, .lse = lse, .ws = ws};
    return attention_cpu(&x);
}

int attention_bwd_cpu(enum dtype dt, const struct attn_shape *s, const void *q, const void *k, const void *v,
                      const void *o, const void *dout, const float *lse, void *dq, void *dk, void *dv, void *ws)
{
    if (dt != DT_F32) { cpu_set_error("attention on the CPU is fp32 only"); return -1; }
    struct attn_call x = {.s = s, .q = q, .k = k, .v = v, .o_in = o, .dout = dout, .lse_in = lse, .dq = dq, .dk = dk,
                          .dv = dv, .ws = ws};
    return attention_cpu(&x);
}
