/* transformer_cpu.c: the GPT step's layers on the CPU, fp32: OpenBLAS GEMMs, and row-parallel
 * (OpenMP) loops for embedding, layer-norm, fused bias/GELU/residual, cross-entropy and AdamW.
 * Reductions over rows (layer-norm's dgamma/dbeta, bias gradients, the position-embedding
 * gradient) run over column slices per thread, so they need no atomics and are deterministic. */
#include "cpu_ops.h"
#include "vecmath.h"
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>


static int fp32_only(enum dtype dt, const char *op)
{
    if (dt == DT_F32) return 0;
    cpu_set_error("%s on the CPU is fp32 only", op);
    return -1;
}

int xf_gemm_cpu(enum dtype dt, enum dtype out, int ta, int tb, int m, int n, int k, const void *a, const void *b, void *c)
{
    if (fp32_only(dt, "gemm") || fp32_only(out, "gemm")) return -1;
    return gemm_cpu(DT_F32, ta, tb, m, n, k, a, b, c);   /* the fastest way per shape, as the GEMM rows */
}

/* A token outside [0, V) reads no row (the data loaders never produce one). */
int xf_embed_fwd_cpu(enum dtype dt, int B, int T, int C, int V, const int32_t *tok, const float *wte, const float *wpe, void *yv)
{
    if (fp32_only(dt, "embedding")) return -1;
    float *y = yv;
#pragma omp parallel for schedule(static)
    for (long r = 0; r < (long)B * T; r++) {
        const float *p = wpe + (size_t)(r % T) * C, *e = (unsigned)tok[r] < (unsigned)V ? wte + (size_t)tok[r] * C : NULL;
        float *yr = y + (size_t)r * C;
        if (e) {
#pragma omp simd
            for (int j = 0; j < C; j++) yr[j] = e[j] + p[j];
        } else memcpy(yr, p, sizeof(float) * C);
    }
    return 0;
}

int xf_embed_bwd_cpu(enum dtype dt, int B, int T, int C, int V, const int32_t *tok, const void *dyv, float *dwte, float *dwpe)
{
    if (fp32_only(dt, "embedding")) return -1;
    const float *dy = dyv;
#pragma omp parallel
    {
        int nt = omp_get_num_threads(), id = omp_get_thread_num(), j0 = C * id / nt, j1 = C * (id + 1) / nt;
        for (long r = 0; r < (long)B * T; r++) {   /* each thread owns columns [j0, j1) of every row */
            if ((unsigned)tok[r] >= (unsigned)V) continue;
            float *e = dwte + (size_t)tok[r] * C;
            const float *d = dy + (size_t)r * C;
            for (int j = j0; j < j1; j++) e[j] += d[j];
        }
#pragma omp for schedule(static)
        for (int t = 0; t < T; t++) {
            float *p = dwpe + (size_t)t * C;
            memcpy(p, dy + (size_t)t * C, sizeof(float) * C);
            for (int b = 1; b < B; b++) {
                const float *d = dy + ((size_t)b * T + t) * C;
#pragma omp simd
                for (int j = 0; j < C; j++) p[j] += d[j];
            }
        }
    }
    return 0;
}

int xf_layernorm_fwd_cpu(enum dtype dt, int rows, int C, const void *xv, const float *gamma, const float *beta, void *yv,
                         float *mean, float *rstd)
{
    if (fp32_only(dt, "layer-norm")) return -1;
    const float *x = xv;
    float *y = yv;
#pragma omp parallel for schedule(static)
    for (long r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * C;
        float *yr = y + (size_t)r * C, mu = 0, var = 0;
#pragma omp simd reduction(+ : mu)
        for (int j = 0; j < C; j++) mu += xr[j];
        mu /= (float)C;
#pragma omp simd reduction(+ : var)
        for (int j = 0; j < C; j++) var += (xr[j] - mu) * (xr[j] - mu);
        float rs = 1.0f / sqrtf(var / (float)C + GPT_LN_EPS);
#pragma omp simd
        for (int j = 0; j < C; j++) yr[j] = (xr[j] - mu) * rs * gamma[j] + beta[j];
        mean[r] = mu;
        rstd[r] = rs;
    }
    return 0;
}

/* dx += rstd·(dy·γ - mean(dy·γ) - x̂·mean(dy·γ·x̂)); dγ = Σ dy·x̂, dβ = Σ dy (per-thread partials). */
int xf_layernorm_bwd_cpu(enum dtype dt, int rows, int C, const void *xv, const float *gamma, const float *mean,
                         const float *rstd, const void *dyv, void *dxv, int acc, float *dgamma, float *dbeta)
{
    if (fp32_only(dt, "layer-norm")) return -1;
    const float *x = xv, *dy = dyv;
    float *dx = dxv;
    int nt = omp_get_max_threads();
    float *part = calloc((size_t)nt * 2 * C, sizeof(float));
    if (!part) { cpu_set_error("out of host memory"); return -1; }
#pragma omp parallel num_threads(nt)
    {
        float *pg = part + (size_t)omp_get_thread_num() * 2 * C, *pb = pg + C;
#pragma omp for schedule(static)
        for (long r = 0; r < rows; r++) {
            const float *xr = x + (size_t)r * C, *dyr = dy + (size_t)r * C;
            float *dxr = dx + (size_t)r * C, mu = mean[r], rs = rstd[r], m1 = 0, m2 = 0;
#pragma omp simd reduction(+ : m1, m2)
            for (int j = 0; j < C; j++) {
                float xh = (xr[j] - mu) * rs, g = dyr[j] * gamma[j];
                pg[j] += dyr[j] * xh;
                pb[j] += dyr[j];
                m1 += g;
                m2 += g * xh;
            }
            m1 /= (float)C;
            m2 /= (float)C;
#pragma omp simd
            for (int j = 0; j < C; j++) {
                float v = rs * (dyr[j] * gamma[j] - m1 - (xr[j] - mu) * rs * m2);
                dxr[j] = acc ? dxr[j] + v : v;
            }
        }
    }
    for (int j = 0; j < C; j++) {
        float g = 0, b = 0;
        for (int t = 0; t < nt; t++) { g += part[(size_t)t * 2 * C + j]; b += part[(size_t)t * 2 * C + C + j]; }
        dgamma[j] = g;
        dbeta[j] = b;
    }
    free(part);
    return 0;
}

int xf_bias_add_cpu(enum dtype dt, int rows, int n, void *yv, const float *bias)
{
    if (fp32_only(dt, "bias")) return -1;
    float *y = yv;
#pragma omp parallel for schedule(static)
    for (long r = 0; r < rows; r++) {
        float *yr = y + (size_t)r * n;
#pragma omp simd
        for (int j = 0; j < n; j++) yr[j] += bias[j];
    }
    return 0;
}

int xf_bias_gelu_cpu(enum dtype dt, int rows, int n, void *hv, const float *bias, void *gv)
{
    if (fp32_only(dt, "bias-gelu")) return -1;
    float *h = hv, *g = gv;
#pragma omp parallel for schedule(static)
    for (long r = 0; r < rows; r++) {
        float *hr = h + (size_t)r * n, *gr = g + (size_t)r * n;
#pragma omp simd
        for (int j = 0; j < n; j++) {
            float v = hr[j] + bias[j];
            hr[j] = v;
            gr[j] = gelu_cpu(v);
        }
    }
    return 0;
}

int xf_bias_residual_cpu(enum dtype dt, int rows, int n, const void *yv, const float *bias, const void *resv, void *outv)
{
    if (fp32_only(dt, "bias-residual")) return -1;
    const float *y = yv, *res = resv;
    float *out = outv;   /* may be res: element-wise, so no restrict */
#pragma omp parallel for schedule(static)
    for (long r = 0; r < rows; r++) {
        const float *yr = y + (size_t)r * n, *rr = res + (size_t)r * n;
        float *orow = out + (size_t)r * n;
#pragma omp simd
        for (int j = 0; j < n; j++) orow[j] = rr[j] + yr[j] + bias[j];
    }
    return 0;
}

int xf_gelu_bwd_cpu(enum dtype dt, size_t n, const void *hv, const void *dgv, void *dhv)
{
    if (fp32_only(dt, "gelu")) return -1;
    const float *h = hv, *dg = dgv;
    float *dh = dhv;
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; i++) {
        dh[i] = dg[i] * gelu_grad_cpu(h[i]);
    }
    return 0;
}

int xf_bias_grad_cpu(enum dtype dt, int rows, int n, const void *dyv, float *db)
{
    if (fp32_only(dt, "bias gradient")) return -1;
    const float *dy = dyv;
#pragma omp parallel
    {
        int nt = omp_get_num_threads(), id = omp_get_thread_num(), j0 = n * id / nt, j1 = n * (id + 1) / nt;
        for (int j = j0; j < j1; j++) db[j] = 0;
        for (long r = 0; r < rows; r++) {
            const float *d = dy + (size_t)r * n;
#pragma omp simd
            for (int j = j0; j < j1; j++) db[j] += d[j];
        }
    }
    return 0;
}

int xf_xent_cpu(enum dtype dt, int rows, int V, int Vp, void *zv, const int32_t *targets, float *losses, float *loss)
{
    if (fp32_only(dt, "cross-entropy")) return -1;
    float *z = zv;
    double total = 0;
    const float inv_rows = 1.0f / (float)rows;
#pragma omp parallel for schedule(static) reduction(+ : total)
    for (long r = 0; r < rows; r++) {
        float *zr = z + (size_t)r * Vp, mx = -INFINITY, s = 0;
        int tg = targets[r];
#pragma omp simd reduction(max : mx)
        for (int j = 0; j < V; j++) mx = zr[j] > mx ? zr[j] : mx;
        float zt = (unsigned)tg < (unsigned)V ? zr[tg] : mx;
#pragma omp simd reduction(+ : s)
        for (int j = 0; j < V; j++) { zr[j] = vexpf(zr[j] - mx); s += zr[j]; }
        float scale = inv_rows / s;
#pragma omp simd
        for (int j = 0; j < V; j++) zr[j] *= scale;
        if ((unsigned)tg < (unsigned)V) zr[tg] -= inv_rows;
        for (int j = V; j < Vp; j++) zr[j] = 0;
        losses[r] = logf(s) + mx - zt;
        total += losses[r];
    }
    loss[0] = (float)(total / rows);
    return 0;
}

int adamw_update_cpu(size_t n, const struct adamw_hp *h, float *restrict w, const float *restrict g, float *restrict m,
                     float *restrict v, float *state, enum dtype dt, void *w_lp)
{
    (void)w_lp;
    if (fp32_only(dt, "AdamW")) return -1;
    state[0] += 1.0f;
    const int step = (int)state[0];
    const float scale = (float)adamw_clip_scale(h, sqrt((double)state[1]));
    const float b1 = h->beta1, b2 = h->beta2, eps = h->eps, decay = 1.0f - h->lr * h->weight_decay;
    const float lr_bc1 = h->lr / (1.0f - powf(b1, (float)step)), rsqrt_bc2 = 1.0f / sqrtf(1.0f - powf(b2, (float)step));
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] * scale, mi = b1 * m[i] + (1.0f - b1) * gi, vi = b2 * v[i] + (1.0f - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] = w[i] * decay - lr_bc1 * mi / (sqrtf(vi) * rsqrt_bc2 + eps);
    }
    return 0;
}

int xf_cast_cpu(enum dtype dt, size_t n, const float *x, void *y)
{
    if (fp32_only(dt, "cast")) return -1;
    if ((const void *)x != y) memcpy(y, x, n * sizeof(float));
    return 0;
}
