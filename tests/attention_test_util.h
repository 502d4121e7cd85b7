/* attention_test_util.h: shared by the CPU and CUDA attention tests: one forward + backward of a
 * backend's attention table on seeded inputs against kernels/attention_ref, on any layout (row
 * strides wider than H·d, as in a packed QKV buffer), and a check that nothing outside the heads'
 * columns was written. */
#ifndef DLBENCH_ATTENTION_TEST_UTIL_H
#define DLBENCH_ATTENTION_TEST_UTIL_H
#include "testutil.h"
#include "attention_ref.h"
#include "rng.h"
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bound for errors relative to each tensor's largest reference value (see workload_attention.c). */
static double attention_test_tol(enum dtype dt) { return dt == DT_F32 ? 1e-4 : 8 * dtype_unit_roundoff(dt); }

static void *attn_put(const struct backend *b, enum dtype dt, const float *h, size_t n)
{
    void *packed = malloc(n * dtype_size(dt)), *d = b->dev->alloc(n * dtype_size(dt));
    cr_assert(packed && d, "%s", b->dev->error());
    dtype_pack(dt, h, packed, n);
    cr_assert_eq(b->dev->upload(d, packed, n * dtype_size(dt)), 0, "%s", b->dev->error());
    free(packed);
    return d;
}

static float *attn_get(const struct backend *b, enum dtype dt, const void *d, size_t n)
{
    float *h = malloc(n * sizeof(float));
    void *packed = malloc(n * dtype_size(dt));
    cr_assert_eq(b->dev->download(packed, d, n * dtype_size(dt)), 0, "%s", b->dev->error());
    dtype_unpack(dt, packed, h, n);
    free(packed);
    return h;
}

/* Largest of o, lse, dq, dk, dv errors relative to the largest reference value of each; asserts the
 * pad columns (ld > H·d) of every output kept their NaN poison. */
static double attention_backend_error(const struct backend *b, const struct attention_ops *op, enum dtype dt, struct attn_shape s)
{
    const size_t nin = (size_t)s.B * s.T * s.ld_in, nout = (size_t)s.B * s.T * s.ld_out, nl = (size_t)s.B * s.H * s.T;
    float *h[4], *nan = malloc(sizeof(float) * (nin > nout ? nin : nout));
    double *x[4], *ref[4], *rl = malloc(sizeof(double) * nl);
    struct rng r;
    rng_seed(&r, 31, (uint64_t)(s.T * 131 + s.d * 7 + s.H));
    for (size_t i = 0; i < (nin > nout ? nin : nout); i++) nan[i] = NAN;
    for (int i = 0; i < 4; i++) {
        size_t n = i < 3 ? nin : nout;
        h[i] = malloc(n * sizeof(float));
        x[i] = malloc(n * sizeof(double));
        ref[i] = calloc(n, sizeof(double));
        rng_fill_uniform(&r, h[i], n, -1, 1);
        for (size_t j = 0; j < n; j++) x[i][j] = h[i][j] = f32_round_to(dt, h[i][j]);
    }
    void *dq = attn_put(b, dt, h[0], nin), *dk = attn_put(b, dt, h[1], nin), *dv = attn_put(b, dt, h[2], nin);
    void *ddo = attn_put(b, dt, h[3], nout), *o = attn_put(b, dt, nan, nout);
    void *gq = attn_put(b, dt, nan, nin), *gk = attn_put(b, dt, nan, nin), *gv = attn_put(b, dt, nan, nin);
    float *lse = b->dev->alloc(nl * sizeof(float));
    void *ws = b->dev->alloc(op->workspace(dt, &s));
    cr_assert(lse && ws, "%s", b->dev->error());
    double worst = -1;
    if (op->fwd(dt, &s, dq, dk, dv, o, lse, ws) == 0 && op->bwd(dt, &s, dq, dk, dv, o, ddo, lse, gq, gk, gv, ws) == 0 &&
        b->dev->sync() == 0) {
        float *got[4] = {attn_get(b, dt, o, nout), attn_get(b, dt, gq, nin), attn_get(b, dt, gk, nin), attn_get(b, dt, gv, nin)};
        float *gl = malloc(nl * sizeof(float));
        cr_assert_eq(b->dev->download(gl, lse, nl * sizeof(float)), 0);
        attention_fwd_ref(&s, x[0], x[1], x[2], ref[3], rl);
        attention_bwd_ref(&s, x[0], x[1], x[2], ref[3], x[3], rl, ref[0], ref[1], ref[2]);
        const double *want[4] = {ref[3], ref[0], ref[1], ref[2]};
        /* Each tensor's worst error relative to its largest reference value, floored at 1% of the
         * largest value of all four: dq and dk of a one-token sequence are exactly zero (dP − D
         * cancels), and a GPU's rounding of that difference is not an error of 10^22. */
        double num[4] = {0}, den[4] = {0}, top = 0;
        worst = 0;
        for (int t = 0; t < 4; t++) {
            long ld = t == 0 ? s.ld_out : s.ld_in;
            for (long row = 0; row < (long)s.B * s.T; row++)
                for (long c = 0; c < ld; c++) {
                    double g = got[t][row * ld + c];
                    if (c >= (long)s.H * s.d) { cr_expect(isnan(g), "%s: pad column %ld of row %ld written", b->name, c, row); continue; }
                    double w = want[t][row * ld + c];
                    num[t] = fmax(num[t], isfinite(g) ? fabs(g - w) : INFINITY);
                    den[t] = fmax(den[t], fabs(w));
                }
            top = fmax(top, den[t]);
        }
        for (int t = 0; t < 4; t++) worst = fmax(worst, num[t] / fmax(fmax(den[t], 0.01 * top), 1e-30));
        for (size_t i = 0; i < nl; i++) worst = fmax(worst, isfinite(gl[i]) ? fabs(gl[i] - rl[i]) / fmax(1, fabs(rl[i])) : INFINITY);
        for (int t = 0; t < 4; t++) free(got[t]);
        free(gl);
    }
    void *bufs[] = {dq, dk, dv, ddo, o, gq, gk, gv, lse, ws};
    for (int i = 0; i < 10; i++) b->dev->release(bufs[i]);
    for (int i = 0; i < 4; i++) { free(h[i]); free(x[i]); free(ref[i]); }
    free(nan);
    free(rl);
    return worst;
}

/* Packed (B, T, H, d) tensors, or with wider rows (pad elements after each row). */
static struct attn_shape attn_shape(int B, int H, int T, int d, long pad_in, long pad_out)
{
    return (struct attn_shape){B, H, T, d, (long)H * d + pad_in, (long)H * d + pad_out};
}

static void expect_attention_ok(const struct backend *b, const struct attention_ops *op, enum dtype dt, struct attn_shape s)
{
    double e = attention_backend_error(b, op, dt, s), tol = attention_test_tol(dt);
    cr_expect(e >= 0, "%s %s B%d H%d T%d d%d: the backend failed: %s", b->name, dtype_name(dt), s.B, s.H, s.T, s.d, b->dev->error());
    cr_expect(e <= tol, "%s %s B%d H%d T%d d%d ld %ld/%ld: error %.3g > %.3g", b->name, dtype_name(dt), s.B, s.H, s.T, s.d, s.ld_in,
              s.ld_out, e, tol);
}
#endif
