/* conv_cpu.c: convolution on the CPU, lowered to GEMM (the same algorithm as the CUDA backend):
 * per image, its padding written out once (so no copy tests bounds), then im2col of a block of
 * output rows, small enough to stay in L2, and sgemm; col2im into the padded gradient for
 * backward-data. The sgemm is OpenBLAS's or, on CPUs with AVX-512F or AVX2 + FMA, dlbench's kernel
 * (gemm_own_cpu.c), whichever the shape's first calls measured faster (the whole convolution, each
 * way, best of three after a warm call): per core the kernel is level with OpenBLAS on large GEMMs
 * and 0.5-0.8x on the MNIST CNN's small ones (one thread, 2-vCPU VM), and inside the per-image
 * parallel loop no single GEMM can be timed. Where the own kernel runs, the filter (forward and
 * backward-data's op(A)) is packed once per call for every image's GEMMs. Images are spread over
 * threads (one single-threaded sgemm each) when the batch has at least as many images as threads;
 * otherwise each image uses every thread. A 1x1, stride 1, unpadded convolution is a plain GEMM on
 * the image itself. */
#include "choose_cpu.h"
#include "cpu_ops.h"
#include <omp.h>
#include <stdlib.h>
#include <string.h>

int conv_cpu_way = -1;
static struct gemm_way_cpu way;   /* OpenBLAS or the own kernel, per shape */

/* c (m x n, stride ldc) = (acc ? c : 0) + op(a)·op(b), row-major, on the calling thread's team. */
static void sgemm(int ta, int tb, int m, int n, int k, const float *a, int lda, const float *b, int ldb, int acc, float *c, int ldc)
{
    gemm_way_sgemm_cpu(&way, ta, tb, m, n, k, a, lda, b, ldb, acc, c, ldc);
}

/* The same with op(A) the filter packed once for the whole call (ap, from pack_filter) where the
 * own kernel runs: the per-image GEMMs would each pack it again (res4's 2.4 MB for 196 pixels an
 * image). */
static void sgemm_w(const float *ap, int ta, int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc)
{
    if (ap && gemm_own_cpu_packed(m, n, k, ap, 0, b, ldb, 0, c, ldc) == 0) return;
    sgemm(ta, 0, m, n, k, a, lda, b, ldb, 0, c, ldc);
}

/* col tile: measured best of 256 KiB..8 MiB on a 1 MiB-L2 Zen 4; on a 512 KiB-L2 Zen 3, 512 KiB and
 * 1 MiB were within the noise of it and 4 MiB slower (0.84x on res2's forward) */
#define TILE_BYTES (2048 * 1024)
#define MAX_THREADS 256

static struct scratch_cpu col_buf[MAX_THREADS], dw_buf[MAX_THREADS], pad_buf[MAX_THREADS], w_packed;

static int is_pointwise(const struct conv_shape *s)
{
    return s->r == 1 && s->s == 1 && s->stride == 1 && s->pad == 0;
}

/* Output rows per tile so that the (C·R·S) x (rows·Q) col tile fits TILE_BYTES. */
static int tile_rows(const struct conv_shape *s, int P, int Q)
{
    long crs = (long)s->c * s->r * s->s, rows = TILE_BYTES / (4 * crs * Q);
    return rows < 1 ? 1 : rows > P ? P : (int)rows;
}

/* The image with its padding written out: C x Hp x Wp (Hp = H + 2·pad, Wp = W + 2·pad) and
 * PAD_SLACK floats after it, so im2col and col2im index it without a bounds test: a tap's row of
 * output columns is a run of Q consecutive (stride 1) or st-spaced floats of one padded row. At
 * stride 1 that run is copied 8 floats at a time, the last 8 reaching up to 7 floats past it (into
 * the next row, or the slack): on the MNIST CNN's conv2 (14 x 14, 3x3) a bounds-tested copy of
 * those 14-float runs took 28% of the forward's time. */
#define PAD_SLACK 8

static int padded_h(const struct conv_shape *s) { return s->h + 2 * s->pad; }
static int padded_w(const struct conv_shape *s) { return s->w + 2 * s->pad; }
static size_t padded_elems(const struct conv_shape *s) { return (size_t)s->c * padded_h(s) * padded_w(s) + PAD_SLACK; }

/* xp (C, Hp, Wp) = x (C, H, W) with a border of pad zeros. */
static void pad_image(const struct conv_shape *s, const float *x, float *xp, int parallel)
{
    int Hp = padded_h(s), Wp = padded_w(s), pad = s->pad;
#pragma omp parallel for schedule(static) if (parallel)
    for (int c = 0; c < s->c; c++) {
        float *d = xp + (size_t)c * Hp * Wp;
        memset(d, 0, sizeof(float) * Wp * pad);
        for (int h = 0; h < s->h; h++) {
            float *dr = d + (size_t)(h + pad) * Wp;
            for (int v = 0; v < pad; v++) dr[v] = dr[pad + s->w + v] = 0.0f;
            memcpy(dr + pad, x + ((size_t)c * s->h + h) * s->w, sizeof(float) * s->w);
        }
        memset(d + (size_t)(s->h + pad) * Wp, 0, sizeof(float) * Wp * pad);
    }
    memset(xp + padded_elems(s) - PAD_SLACK, 0, sizeof(float) * PAD_SLACK);
}

/* dx (C, H, W) = the interior of dxp (C, Hp, Wp). */
static void unpad_image(const struct conv_shape *s, const float *dxp, float *dx, int parallel)
{
    int Hp = padded_h(s), Wp = padded_w(s), pad = s->pad;
#pragma omp parallel for schedule(static) if (parallel)
    for (int c = 0; c < s->c; c++)
        for (int h = 0; h < s->h; h++)
            memcpy(dx + ((size_t)c * s->h + h) * s->w, dxp + ((size_t)c * Hp + h + pad) * Wp + pad, sizeof(float) * s->w);
}

/* d[0..Q) = src[0..Q), 8 floats a move; the last move may write up to 7 floats past d + Q where
 * room (the floats writable from d) allows it, and read past src + Q. */
static inline void copy_run(float *d, const float *src, int Q, long room)
{
    int q = 0;
    for (; q + 8 <= Q; q += 8) memcpy(d + q, src + q, 8 * sizeof(float));
    if (q < Q && q + 8 <= room) memcpy(d + q, src + q, 8 * sizeof(float));
    else for (; q < Q; q++) d[q] = src[q];
}

/* d[0..Q) += src[0..Q) in 8-, then 4-float vectors, then singly: GCC's own vectorisation of this
 * loop left a 14-float run's last 6 to single adds (conv2's col2im: 16% of its time, most of it
 * those). */
typedef float f32x8 __attribute__((vector_size(32)));
typedef float f32x4 __attribute__((vector_size(16)));
static inline void add_run(float *restrict d, const float *restrict src, int Q)
{
    int q = 0;
    for (; q + 8 <= Q; q += 8) {
        f32x8 a, b;
        memcpy(&a, d + q, sizeof a), memcpy(&b, src + q, sizeof b), a += b, memcpy(d + q, &a, sizeof a);
    }
    if (q + 4 <= Q) {
        f32x4 a, b;
        memcpy(&a, d + q, sizeof a), memcpy(&b, src + q, sizeof b), a += b, memcpy(d + q, &a, sizeof a);
        q += 4;
    }
    for (; q < Q; q++) d[q] += src[q];
}

/* col (C·R·S, rows·Q) for output rows p0 .. p0+rows-1 of one padded image xp (C, Hp, Wp). */
static void im2col(const struct conv_shape *s, const float *xp, int p0, int rows, int Q, float *col, int parallel)
{
    long crs = (long)s->c * s->r * s->s, T = (long)rows * Q;
    int Hp = padded_h(s), Wp = padded_w(s), st = s->stride;
#pragma omp parallel for schedule(static) if (parallel)
    for (long i = 0; i < crs; i++) {
        int t = (int)(i % s->s), r = (int)(i / s->s % s->r), c = (int)(i / ((long)s->s * s->r));
        const float *src = xp + ((size_t)c * Hp + (size_t)p0 * st + r * s->dil) * Wp + t * s->dil;
        float *d = col + i * T;
        /* within a tap's block of rows the overrun lands on the next rows, written after it */
        for (int pp = 0; pp < rows; pp++, d += Q, src += (size_t)st * Wp)
            if (st == 1) copy_run(d, src, Q, (long)(rows - pp) * Q);
            else for (int q = 0; q < Q; q++) d[q] = src[q * st];
    }
}

/* dxp (C, Hp, Wp) += col2im of dcol (C·R·S, rows·Q) for output rows p0 .. p0+rows-1. */
static void col2im(const struct conv_shape *s, const float *dcol, int p0, int rows, int Q, float *dxp, int parallel)
{
    long T = (long)rows * Q;
    int Hp = padded_h(s), Wp = padded_w(s), st = s->stride;
#pragma omp parallel for schedule(static) if (parallel)
    for (int c = 0; c < s->c; c++) /* one channel per thread: no two threads write one dxp element */
        for (int r = 0; r < s->r; r++)
            for (int t = 0; t < s->s; t++) {
                const float *src = dcol + (((long)c * s->r + r) * s->s + t) * T;
                float *d = dxp + ((size_t)c * Hp + (size_t)p0 * st + r * s->dil) * Wp + t * s->dil;
                for (int pp = 0; pp < rows; pp++, src += Q, d += (size_t)st * Wp)
                    if (st == 1) add_run(d, src, Q);
                    else for (int q = 0; q < Q; q++) d[q * st] += src[q];
            }
}

static void fwd_image(const struct conv_shape *s, const float *x, const float *w, const float *wp, float *y, float *col, float *xp,
                      int parallel)
{
    int P = conv_p(s), Q = conv_q(s), K = s->k, crs = s->c * s->r * s->s, rows = tile_rows(s, P, Q);
    if (is_pointwise(s)) { /* y (K, HW) = w (K, C) · x (C, HW) */
        sgemm_w(wp, 0, K, P * Q, s->c, w, s->c, x, P * Q, y, P * Q);
        return;
    }
    pad_image(s, x, xp, parallel);
    for (int p0 = 0; p0 < P; p0 += rows) {
        int nr = P - p0 < rows ? P - p0 : rows;
        im2col(s, xp, p0, nr, Q, col, parallel);
        /* y[:, p0·Q ..] (K, nr·Q), row stride P·Q = w (K, CRS) · col (CRS, nr·Q) */
        sgemm_w(wp, 0, K, nr * Q, crs, w, crs, col, nr * Q, y + (long)p0 * Q, P * Q);
    }
}

static void bwd_data_image(const struct conv_shape *s, const float *dy, const float *w, const float *wp, float *dx, float *col,
                           float *dxp, int parallel)
{
    int P = conv_p(s), Q = conv_q(s), K = s->k, crs = s->c * s->r * s->s, rows = tile_rows(s, P, Q);
    if (is_pointwise(s)) { /* dx (C, HW) = wᵀ (C, K) · dy (K, HW) */
        sgemm_w(wp, 1, s->c, P * Q, K, w, s->c, dy, P * Q, dx, P * Q);
        return;
    }
    memset(dxp, 0, sizeof(float) * padded_elems(s));
    for (int p0 = 0; p0 < P; p0 += rows) {
        int nr = P - p0 < rows ? P - p0 : rows;
        /* dcol (CRS, nr·Q) = wᵀ (CRS, K) · dy[:, p0·Q ..] (K, nr·Q) */
        sgemm_w(wp, 1, crs, nr * Q, K, w, crs, dy + (long)p0 * Q, P * Q, col, nr * Q);
        col2im(s, col, p0, nr, Q, dxp, parallel);
    }
    unpad_image(s, dxp, dx, parallel);
}

/* dw (K, CRS) += dy (K, PQ) · colᵀ, one image. */
static void bwd_filter_image(const struct conv_shape *s, const float *x, const float *dy, float *dw, float *col, float *xp, int parallel)
{
    int P = conv_p(s), Q = conv_q(s), K = s->k, crs = s->c * s->r * s->s, rows = tile_rows(s, P, Q);
    if (is_pointwise(s)) {
        sgemm(0, 1, K, s->c, P * Q, dy, P * Q, x, P * Q, 1, dw, s->c);
        return;
    }
    pad_image(s, x, xp, parallel);
    for (int p0 = 0; p0 < P; p0 += rows) {
        int nr = P - p0 < rows ? P - p0 : rows;
        im2col(s, xp, p0, nr, Q, col, parallel);
        sgemm(0, 1, K, crs, nr * Q, dy + (long)p0 * Q, P * Q, col, nr * Q, 1, dw, crs);
    }
}

static size_t col_elems(const struct conv_shape *s)
{
    int P = conv_p(s), Q = conv_q(s);
    return (size_t)s->c * s->r * s->s * tile_rows(s, P, Q) * Q;
}

/* The filter as the own kernel's packed op(A) for every image's GEMMs: w (K, CRS) forward, wᵀ
 * (CRS, K) backward-data; NULL where OpenBLAS runs (or no memory: each GEMM then packs it). */
static const float *pack_filter(enum conv_dir d, const struct conv_shape *s, const float *w)
{
    int crs = s->c * s->r * s->s, m = d == CONV_FWD ? s->k : crs, k = d == CONV_FWD ? crs : s->k;
    size_t n = way.use_own ? gemm_own_cpu_packed_size(m, k) : 0;
    float *ap = n ? scratch_grow_cpu(&w_packed, n) : NULL;
    return ap && gemm_own_cpu_pack(d != CONV_FWD, m, k, w, crs, ap) == 0 ? ap : NULL;
}

/* The padded image (fwd, bwd-filter) or its gradient (bwd-data); a pointwise convolution needs none. */
static size_t pad_elems(const struct conv_shape *s)
{
    return is_pointwise(s) ? 1 : padded_elems(s);
}

static int run_conv(enum conv_dir d, const struct conv_shape *s, const float *a, const float *b, float *out)
{
    size_t xs = (size_t)s->c * s->h * s->w, ys = (size_t)s->k * conv_p(s) * conv_q(s), ws = conv_w_elems(s);
    int nt = omp_get_max_threads() < MAX_THREADS ? omp_get_max_threads() : MAX_THREADS, fail = 0;
    if (d == CONV_BWD_FILTER) memset(out, 0, sizeof(float) * ws);
    const float *wp = d == CONV_BWD_FILTER ? NULL : pack_filter(d, s, b);
    if (s->n < nt) { /* few images: every thread on each image (threaded im2col and sgemm) */
        float *col = scratch_grow_cpu(&col_buf[0], col_elems(s)), *xp = scratch_grow_cpu(&pad_buf[0], pad_elems(s));
        if (!col || !xp) return -1;
        for (int n = 0; n < s->n; n++) {
            if (d == CONV_FWD) fwd_image(s, a + n * xs, b, wp, out + n * ys, col, xp, 1);
            else if (d == CONV_BWD_DATA) bwd_data_image(s, a + n * ys, b, wp, out + n * xs, col, xp, 1);
            else bwd_filter_image(s, a + n * xs, b + n * ys, out, col, xp, 1);
        }
        return 0;
    }
#pragma omp parallel num_threads(nt) reduction(| : fail)
    {
        int t = omp_get_thread_num();
        float *col = scratch_grow_cpu(&col_buf[t], col_elems(s)), *xp = scratch_grow_cpu(&pad_buf[t], pad_elems(s)), *dw = NULL;
        if (d == CONV_BWD_FILTER && (dw = scratch_grow_cpu(&dw_buf[t], ws))) memset(dw, 0, sizeof(float) * ws);
        fail = !col || !xp || (d == CONV_BWD_FILTER && !dw);
        if (!fail) {
#pragma omp for schedule(static)
            for (int n = 0; n < s->n; n++) {
                if (d == CONV_FWD) fwd_image(s, a + n * xs, b, wp, out + n * ys, col, xp, 0);
                else if (d == CONV_BWD_DATA) bwd_data_image(s, a + n * ys, b, wp, out + n * xs, col, xp, 0);
                else bwd_filter_image(s, a + n * xs, b + n * ys, dw, col, xp, 0);
            }
        }
        if (d == CONV_BWD_FILTER && !fail) {
#pragma omp critical
            for (size_t i = 0; i < ws; i++) out[i] += dw[i];
        }
    }
    return fail ? -1 : 0;
}

/* One convolution's arguments, for gemm_way_call_cpu's runs. */
struct conv_call { enum conv_dir d; const struct conv_shape *s; const float *a, *b; float *out; };
static int run_call(void *p)
{
    const struct conv_call *x = p;
    return run_conv(x->d, x->s, x->a, x->b, x->out);
}

int conv_cpu(enum conv_dir d, const struct conv_shape *s, const float *a, const float *b, float *out)
{
    cpu_last_impl = CPU_IMPL_IM2COL_SGEMM;
    struct conv_call x = {d, s, a, b, out};
    int key[] = {d, s->n, s->c, s->h, s->w, s->k, s->r, s->s, s->stride, s->pad, s->dil, omp_get_max_threads()};
    return gemm_way_call_cpu(&way, conv_cpu_way, key, 12, run_call, &x);
}

const char *conv_cpu_note(void)
{
    static char note[160];
    return gemm_way_note_cpu(&way, "im2col + ", note, sizeof note);
}

int conv_fwd_cpu(enum dtype dt, const struct conv_shape *s, const void *x, const void *w, void *y)
{ return dt == DT_F32 ? conv_cpu(CONV_FWD, s, x, w, y) : -1; }
int conv_bwd_data_cpu(enum dtype dt, const struct conv_shape *s, const void *dy, const void *w, void *dx)
{ return dt == DT_F32 ? conv_cpu(CONV_BWD_DATA, s, dy, w, dx) : -1; }
int conv_bwd_filter_cpu(enum dtype dt, const struct conv_shape *s, const void *x, const void *dy, void *dw)
{ return dt == DT_F32 ? conv_cpu(CONV_BWD_FILTER, s, x, dy, dw) : -1; }
