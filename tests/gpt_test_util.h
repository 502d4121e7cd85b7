/* gpt_test_util.h: shared by the CPU and CUDA GPT tests: the transformer ops of a backend against
 * kernels/gpt_ref on small awkward shapes, and a whole step's gradients against the double
 * reference of the same model. */
#ifndef DLBENCH_GPT_TEST_UTIL_H
#define DLBENCH_GPT_TEST_UTIL_H
#include "testutil.h"
#include "gpt_ref.h"
#include "eltwise_ref.h"
#include "rng.h"
#include "train_gpt.h"
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void *xput(const struct backend *b, enum dtype dt, const float *h, size_t n)
{
    void *packed = malloc(n * dtype_size(dt) + 1), *d = b->dev->alloc(n * dtype_size(dt));
    cr_assert(packed && d, "%s", b->dev->error());
    dtype_pack(dt, h, packed, n);
    cr_assert_eq(b->dev->upload(d, packed, n * dtype_size(dt)), 0, "%s", b->dev->error());
    free(packed);
    return d;
}

static float *xget(const struct backend *b, enum dtype dt, const void *d, size_t n)
{
    float *h = malloc(n * sizeof(float) + 1);
    void *packed = malloc(n * dtype_size(dt) + 1);
    cr_assert_eq(b->dev->sync(), 0, "%s", b->dev->error());
    cr_assert_eq(b->dev->download(packed, d, n * dtype_size(dt)), 0, "%s", b->dev->error());
    dtype_unpack(dt, packed, h, n);
    free(packed);
    return h;
}

/* Fills n values in [lo, hi], rounded to dt. */
static float *xrand(struct rng *r, enum dtype dt, size_t n, float lo, float hi)
{
    float *h = malloc(n * sizeof(float) + 1);
    rng_fill_uniform(r, h, n, lo, hi);
    for (size_t i = 0; i < n; i++) h[i] = f32_round_to(dt, h[i]);
    return h;
}

static double rel_err(const float *got, const double *want, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num = fmax(num, isfinite(got[i]) ? fabs(got[i] - want[i]) : INFINITY);
        den = fmax(den, fabs(want[i]));
    }
    return num / fmax(den, 1e-30);
}

/* layer-norm forward and backward (rows 5, C 24), accumulate into dx */
static void check_layernorm(const struct backend *b, enum dtype dt, double tol)
{
    const int R = 5, C = 24;
    struct rng r;
    rng_seed(&r, 1, 2);
    float *x = xrand(&r, dt, R * C, -2, 2), *dy = xrand(&r, dt, R * C, -1, 1), *dx0 = xrand(&r, dt, R * C, -1, 1);
    float *g = xrand(&r, DT_F32, C, 0.5f, 1.5f), *be = xrand(&r, DT_F32, C, -0.5f, 0.5f);
    void *dX = xput(b, dt, x, R * C), *dY = b->dev->alloc(R * C * dtype_size(dt)), *dDY = xput(b, dt, dy, R * C), *dDX = xput(b, dt, dx0, R * C);
    float *dG = xput(b, DT_F32, g, C), *dB = xput(b, DT_F32, be, C), *mean = b->dev->alloc(R * 4), *rstd = b->dev->alloc(R * 4);
    float *dg = b->dev->alloc(C * 4), *db = b->dev->alloc(C * 4);
    cr_assert_eq(b->xformer->layernorm_fwd(dt, R, C, dX, dG, dB, dY, mean, rstd), 0, "%s", b->dev->error());
    cr_assert_eq(b->xformer->layernorm_bwd(dt, R, C, dX, dG, mean, rstd, dDY, dDX, 1, dg, db), 0, "%s", b->dev->error());
    float *y = xget(b, dt, dY, R * C), *gx = xget(b, dt, dDX, R * C), *gg = xget(b, DT_F32, dg, C), *gb = xget(b, DT_F32, db, C);
    double xd[24], gd[24], bd[24], yd[5 * 24], dyd[24], dxd[5 * 24], rg[24] = {0}, rb[24] = {0}, mu, rs;
    for (int j = 0; j < C; j++) { gd[j] = g[j]; bd[j] = be[j]; }
    for (int i = 0; i < R; i++) {
        for (int j = 0; j < C; j++) { xd[j] = x[i * C + j]; dyd[j] = dy[i * C + j]; }
        layernorm_fwd_ref(C, xd, gd, bd, yd + i * C, &mu, &rs);
        layernorm_bwd_ref(C, xd, gd, mu, rs, dyd, dxd + i * C, rg, rb);
        for (int j = 0; j < C; j++) dxd[i * C + j] += dx0[i * C + j];
    }
    cr_expect(rel_err(y, yd, R * C) <= tol, "%s %s layer-norm y: %g", b->name, dtype_name(dt), rel_err(y, yd, R * C));
    cr_expect(rel_err(gx, dxd, R * C) <= tol, "%s %s layer-norm dx: %g", b->name, dtype_name(dt), rel_err(gx, dxd, R * C));
    cr_expect(rel_err(gg, rg, C) <= tol && rel_err(gb, rb, C) <= tol, "%s %s layer-norm dgamma %g dbeta %g", b->name, dtype_name(dt),
              rel_err(gg, rg, C), rel_err(gb, rb, C));
    void *bufs[] = {dX, dY, dDY, dDX, dG, dB, mean, rstd, dg, db};
    for (int i = 0; i < 10; i++) b->dev->release(bufs[i]);
    free(x); free(dy); free(dx0); free(g); free(be); free(y); free(gx); free(gg); free(gb);
}

/* cross-entropy over V = 13 of Vp = 16 columns, 6 rows, logits up to ±8 */
static void check_xent(const struct backend *b, enum dtype dt, double tol)
{
    const int R = 6, V = 13, Vp = 16;
    struct rng r;
    rng_seed(&r, 3, 4);
    float *z = xrand(&r, dt, R * Vp, -8, 8);
    int32_t tg[6] = {0, 12, 5, 5, 7, 1};
    void *dz = xput(b, dt, z, R * Vp);
    int32_t *dt_ = (int32_t *)xput(b, DT_F32, (const float *)tg, R);
    float *losses = b->dev->alloc(R * 4), *loss = b->dev->alloc(4);
    cr_assert_eq(b->xformer->xent(dt, R, V, Vp, dz, dt_, losses, loss), 0, "%s", b->dev->error());
    float *g = xget(b, dt, dz, R * Vp), *l = xget(b, DT_F32, losses, R), *m = xget(b, DT_F32, loss, 1);
    double want[6 * 16], lw[6], mean = 0;
    for (int i = 0; i < R; i++) {
        double mx = -INFINITY, s = 0;
        for (int j = 0; j < V; j++) mx = fmax(mx, z[i * Vp + j]);
        for (int j = 0; j < V; j++) s += exp(z[i * Vp + j] - mx);
        for (int j = 0; j < Vp; j++) want[i * Vp + j] = j < V ? (exp(z[i * Vp + j] - mx) / s - (j == tg[i])) / R : 0;
        lw[i] = log(s) + mx - z[i * Vp + tg[i]];
        mean += lw[i] / R;
    }
    cr_expect(rel_err(g, want, R * Vp) <= tol, "%s %s xent gradient: %g", b->name, dtype_name(dt), rel_err(g, want, R * Vp));
    cr_expect(rel_err(l, lw, R) <= 1e-5 && fabs(m[0] - mean) <= 1e-5 * mean, "%s %s xent losses %g, mean %g vs %g", b->name,
              dtype_name(dt), rel_err(l, lw, R), m[0], mean);
    for (int i = 0; i < R; i++)
        for (int j = V; j < Vp; j++) cr_expect(g[i * Vp + j] == 0, "%s padded column %d of row %d not zero", b->name, j, i);
    b->dev->release(dz); b->dev->release(dt_); b->dev->release(losses); b->dev->release(loss);
    free(z); free(g); free(l); free(m);
}

/* AdamW with clipping (the gradient norm well above the clip) and weight decay, two steps, plus the
 * low-precision copy; n = 1031 (no vector multiple). */
static void check_adamw(const struct backend *b, enum dtype dt)
{
    const size_t n = 1031;
    struct rng r;
    rng_seed(&r, 5, 6);
    float *w = xrand(&r, DT_F32, n, -1, 1), *g = xrand(&r, DT_F32, n, -1, 1), zero2[2] = {0, 0};
    float *dw = xput(b, DT_F32, w, n), *dg = xput(b, DT_F32, g, n), *state = xput(b, DT_F32, zero2, 2);
    float *z = calloc(n, sizeof(float)), *dm = xput(b, DT_F32, z, n), *dv = xput(b, DT_F32, z, n);
    void *lp = dt != DT_F32 ? b->dev->alloc(n * dtype_size(dt)) : NULL;
    struct adamw_hp hp = {1e-2f, 0.9f, 0.999f, 1e-8f, 0.1f, 1.0f};
    double ww[1031], m[1031] = {0}, v[1031] = {0}, ss = 0;
    for (size_t i = 0; i < n; i++) { ww[i] = w[i]; ss += (double)g[i] * g[i]; }
    double scale = adamw_clip_scale(&hp, sqrt(ss));
    cr_assert(scale < 0.5, "the test gradient must be clipped (norm %g)", sqrt(ss));
    for (int step = 1; step <= 2; step++) {
        cr_assert_eq(b->elt->dot(n, dg, dg, state + 1), 0, "%s", b->dev->error());
        cr_assert_eq(b->xformer->adamw(n, &hp, dw, dg, dm, dv, state, dt, lp), 0, "%s", b->dev->error());
        for (size_t i = 0; i < n; i++) ww[i] = adamw_ref(&hp, step, ww[i], scale * g[i], &m[i], &v[i]);
    }
    float *got = xget(b, DT_F32, dw, n), *st = xget(b, DT_F32, state, 2);
    double num = 0;
    for (size_t i = 0; i < n; i++) num = fmax(num, fabs(got[i] - ww[i]));
    cr_expect(num <= 1e-5, "%s AdamW: max |w - ref| = %g after 2 steps", b->name, num);
    cr_expect_eq(st[0], 2.0f, "%s AdamW step count %g", b->name, st[0]);
    if (lp) {
        float *low = xget(b, dt, lp, n);
        for (size_t i = 0; i < n; i++) cr_expect_eq(low[i], f32_round_to(dt, got[i]), "%s AdamW copy [%zu]", b->name, i);
        free(low);
        b->dev->release(lp);
    }
    b->dev->release(dw); b->dev->release(dg); b->dev->release(state); b->dev->release(dm); b->dev->release(dv);
    free(w); free(g); free(z); free(got); free(st);
}

/* embedding forward and backward; B 2, T 3, C 16, V 5 with one token out of range */
static void check_embedding(const struct backend *b, enum dtype dt, double tol)
{
    const int B = 2, T = 3, C = 16, V = 5;
    struct rng r;
    rng_seed(&r, 7, 8);
    int32_t tok[6] = {4, 0, 4, 2, 9, 1};
    float *wte = xrand(&r, DT_F32, V * C, -1, 1), *wpe = xrand(&r, DT_F32, T * C, -1, 1), *dy = xrand(&r, dt, B * T * C, -1, 1);
    float *dwte0 = xrand(&r, DT_F32, V * C, -1, 1);
    int32_t *dtok = (int32_t *)xput(b, DT_F32, (const float *)tok, 6);
    float *dwte = xput(b, DT_F32, wte, V * C), *dwpe = xput(b, DT_F32, wpe, T * C), *gwte = xput(b, DT_F32, dwte0, V * C);
    float *gwpe = b->dev->alloc(T * C * 4);
    void *y = b->dev->alloc(B * T * C * dtype_size(dt)), *ddy = xput(b, dt, dy, B * T * C);
    cr_assert_eq(b->xformer->embed_fwd(dt, B, T, C, V, dtok, dwte, dwpe, y), 0, "%s", b->dev->error());
    cr_assert_eq(b->xformer->embed_bwd(dt, B, T, C, V, dtok, ddy, gwte, gwpe), 0, "%s", b->dev->error());
    float *gy = xget(b, dt, y, B * T * C), *gw = xget(b, DT_F32, gwte, V * C), *gp = xget(b, DT_F32, gwpe, T * C);
    double yr[96], wr[80], pr[48] = {0};
    for (int i = 0; i < V * C; i++) wr[i] = dwte0[i];
    for (int i = 0; i < B * T; i++)
        for (int j = 0; j < C; j++) {
            int ok = tok[i] >= 0 && tok[i] < V;
            yr[i * C + j] = (ok ? wte[tok[i] * C + j] : 0) + wpe[(i % T) * C + j];
            if (ok) wr[tok[i] * C + j] += dy[i * C + j];
            pr[(i % T) * C + j] += dy[i * C + j];
        }
    cr_expect(rel_err(gy, yr, B * T * C) <= tol, "%s %s embedding y: %g", b->name, dtype_name(dt), rel_err(gy, yr, B * T * C));
    cr_expect(rel_err(gw, wr, V * C) <= 1e-6 && rel_err(gp, pr, T * C) <= 1e-6, "%s %s embedding dwte %g dwpe %g", b->name,
              dtype_name(dt), rel_err(gw, wr, V * C), rel_err(gp, pr, T * C));
    void *bufs[] = {dtok, dwte, dwpe, gwte, gwpe, y, ddy};
    for (int i = 0; i < 7; i++) b->dev->release(bufs[i]);
    free(wte); free(wpe); free(dy); free(dwte0); free(gy); free(gw); free(gp);
}

/* fused bias/GELU/residual ops and the bias gradient on rows of 24 (8-wide) and 13 (scalar) */
static void check_fused(const struct backend *b, enum dtype dt, double tol)
{
    for (int pass = 0; pass < 2; pass++) {
        const int R = 3, n = pass ? 13 : 24;
        struct rng r;
        rng_seed(&r, 9, (uint64_t)n);
        float *h = xrand(&r, dt, R * n, -3, 3), *y = xrand(&r, dt, R * n, -1, 1), *res = xrand(&r, dt, R * n, -1, 1);
        float *bias = xrand(&r, DT_F32, n, -1, 1);
        void *dh = xput(b, dt, h, R * n), *dg = b->dev->alloc(R * n * dtype_size(dt)), *dy = xput(b, dt, y, R * n);
        void *dres = xput(b, dt, res, R * n), *dout = b->dev->alloc(R * n * dtype_size(dt)), *dd = b->dev->alloc(R * n * dtype_size(dt));
        float *db = xput(b, DT_F32, bias, n), *gb = b->dev->alloc(n * 4);
        cr_assert_eq(b->xformer->bias_gelu(dt, R, n, dh, db, dg), 0, "%s", b->dev->error());
        cr_assert_eq(b->xformer->bias_residual(dt, R, n, dy, db, dres, dout), 0, "%s", b->dev->error());
        cr_assert_eq(b->xformer->gelu_bwd(dt, (size_t)R * n, dh, dy, dd), 0, "%s", b->dev->error());
        cr_assert_eq(b->xformer->bias_grad(dt, R, n, dy, gb), 0, "%s", b->dev->error());
        cr_assert_eq(b->xformer->bias_add(dt, R, n, dy, db), 0, "%s", b->dev->error());
        float *gh = xget(b, dt, dh, R * n), *gg = xget(b, dt, dg, R * n), *go = xget(b, dt, dout, R * n), *gd = xget(b, dt, dd, R * n);
        float *gbias = xget(b, DT_F32, gb, n), *gy = xget(b, dt, dy, R * n);
        double wh[72], wg[72], wo[72], wd[72], wb[24] = {0}, wy[72];
        for (int i = 0; i < R * n; i++) {
            int j = i % n;
            wh[i] = f32_round_to(dt, h[i] + bias[j]);
            wg[i] = gelu_ref(wh[i]);
            wo[i] = res[i] + y[i] + bias[j];
            wd[i] = y[i] * gelu_grad_ref(wh[i]);
            wb[j] += y[i];
            wy[i] = y[i] + bias[j];
        }
        cr_expect(rel_err(gh, wh, R * n) <= tol && rel_err(gg, wg, R * n) <= tol, "%s %s n=%d bias-gelu: h %g, g %g", b->name,
                  dtype_name(dt), n, rel_err(gh, wh, R * n), rel_err(gg, wg, R * n));
        cr_expect(rel_err(go, wo, R * n) <= tol, "%s %s n=%d bias-residual %g", b->name, dtype_name(dt), n, rel_err(go, wo, R * n));
        cr_expect(rel_err(gd, wd, R * n) <= tol, "%s %s n=%d gelu backward %g", b->name, dtype_name(dt), n, rel_err(gd, wd, R * n));
        cr_expect(rel_err(gbias, wb, n) <= 1e-6, "%s %s n=%d bias gradient %g", b->name, dtype_name(dt), n, rel_err(gbias, wb, n));
        cr_expect(rel_err(gy, wy, R * n) <= tol, "%s %s n=%d bias-add %g", b->name, dtype_name(dt), n, rel_err(gy, wy, R * n));
        void *bufs[] = {dh, dg, dy, dres, dout, dd, db, gb};
        for (int i = 0; i < 8; i++) b->dev->release(bufs[i]);
        free(h); free(y); free(res); free(bias); free(gh); free(gg); free(go); free(gd); free(gbias); free(gy);
    }
}

static void check_transformer_ops(const struct backend *b, enum dtype dt)
{
    double tol = dt == DT_F32 ? 1e-5 : 4 * dtype_unit_roundoff(dt);
    check_layernorm(b, dt, tol);
    check_xent(b, dt, tol);
    check_adamw(b, dt);
    check_embedding(b, dt, tol);
    check_fused(b, dt, tol);
}

/* One forward/backward of a GPT on b from random parameters (non-trivial layer-norm gains and
 * biases) against gpt_ref: the loss's relative error, and per tensor the largest gradient error
 * relative to the tensor's largest reference gradient (worst over tensors) in *grad_err. */
static double gpt_step_error(const struct backend *b, enum dtype dt, const struct gpt_config *c, int B, double *grad_err)
{
    struct gpt_trainer t;
    char why[256];
    cr_assert_eq(gpt_init(&t, b, c, B, dt, 5, why, sizeof why), 0, "%s", why);
    struct rng r;
    rng_seed(&r, 3, 3);
    rng_fill_uniform(&r, t.host_init, t.np, -0.3f, 0.3f);
    for (size_t i = (size_t)c->V * c->C; i < t.size[GPT_WTE]; i++) t.host_init[t.off[GPT_WTE] + i] = 0;
    cr_assert_eq(gpt_reset(&t), 0, "%s", b->dev->error());
    size_t N = (size_t)B * c->T;
    int32_t *tok = malloc((N + 1) * sizeof(int32_t));
    for (size_t i = 0; i <= N; i++) tok[i] = (int32_t)(rng_next(&r) % (uint64_t)c->V);
    int32_t *dtok = b->dev->alloc((N + 1) * sizeof(int32_t));
    cr_assert(dtok && b->dev->upload(dtok, tok, (N + 1) * sizeof(int32_t)) == 0);
    cr_assert_eq(gpt_forward_backward(&t, dtok), 0, "%s", b->dev->error());
    float loss, *g = xget(b, DT_F32, t.grads, t.np);
    cr_assert_eq(gpt_loss(&t, &loss), 0);
    double *ref = malloc(t.np * sizeof(double)), rl = gpt_ref(c, B, c->T, t.host_init, tok, tok + 1, NULL, ref);
    *grad_err = 0;
    for (int k = 0; k < GPT_NTENSORS; k++) {
        double e = rel_err(g + t.off[k], ref + t.off[k], t.size[k]);
        cr_expect(e <= 1 || dt != DT_F32, "tensor %d: error %g", k, e);
        *grad_err = fmax(*grad_err, e);
    }
    b->dev->release(dtok);
    gpt_free(&t);
    free(tok); free(g); free(ref);
    return fabs(loss - rl) / rl;
}
#endif
