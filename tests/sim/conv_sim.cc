/* conv_sim.cc: the implicit-GEMM convolution kernel compiled for the host and launched on the
 * simulator with conv_cuda.cu's grid and shared memory (see conv_sim.h). */
#include "cuda_sim.h"
DLBENCH_SIM_KERNELS_BEGIN
#include "conv_igemm.cuh"
#include "conv_igemm_f32.cuh"
DLBENCH_SIM_KERNELS_END
using namespace dlbench_sim;
#include "conv_sim.h"
#include <stdio.h>
#include <string.h>
#include <vector>

void conv_sim_options(int reverse)
{
    sim_set_reverse(reverse != 0);
    sim_set_eager_copies(reverse != 0);
}

/* One forward launch of geometry g as conv_cuda.cu's forward_igemm / forward_igemm_f32 make it. */
static int fwd_launch(enum dtype dt, const igemm_geom &g, const void *x, const void *w, void *y, char *why, int n)
{
    unsigned gx = (unsigned)((g.NPQ + IG_BN - 1) / IG_BN), gy = (unsigned)((g.K + IG_BM - 1) / IG_BM);
    /* fp16/bf16 in (r, s, c) order where conv_cuda.cu's forward_igemm takes it, the filter reordered
     * by its kernel first (on a grid smaller than the work: the grid-stride loop runs) */
    std::vector<uint16_t> wt;
    if (dt != DT_F32 && g.rsc && g.R * g.S > 1) {
        const unsigned total = (unsigned)((size_t)g.K * g.CRS);
        wt.assign(total + 8, 0xffffu);   /* NaN where the kernel misses an element */
        std::function<void()> fill = [&] { conv_filter_rsc_kernel<uint16_t>(total, g.C, g.R * g.S, (const uint16_t *)w, wt.data()); };
        if (sim_launch(3, 1, 64, 0, fill)) {
            snprintf(why, (size_t)n, "simulated filter kernel: %s", sim_error());
            return -1;
        }
        w = wt.data();
    }
    bool vec = g.CRS % 8 == 0 && ((uintptr_t)w & 15) == 0;
    std::function<void()> body;
    if (dt == DT_BF16) {
        using T = __nv_bfloat16;
        if (vec) body = [&] { conv_igemm_kernel<T, true>(g, (const T *)x, (const T *)w, (T *)y); };
        else body = [&] { conv_igemm_kernel<T, false>(g, (const T *)x, (const T *)w, (T *)y); };
    } else if (dt == DT_F16) {
        using T = __half;
        if (vec) body = [&] { conv_igemm_kernel<T, true>(g, (const T *)x, (const T *)w, (T *)y); };
        else body = [&] { conv_igemm_kernel<T, false>(g, (const T *)x, (const T *)w, (T *)y); };
    } else if (dt == DT_F32) {
        body = [&] { conv_igemm_f32_kernel(g, (const float *)x, (const float *)w, (float *)y); };
        gx = (unsigned)((g.NPQ + FG_BN - 1) / FG_BN);
        gy = (unsigned)((g.K + FG_BM - 1) / FG_BM);
    } else {
        snprintf(why, (size_t)n, "no implicit GEMM for %s", dtype_name(dt));
        return -1;
    }
    if (sim_launch(gx, gy, dt == DT_F32 ? FG_THREADS : IG_THREADS, dt == DT_F32 ? conv_igemm_f32_smem() : conv_igemm_smem(), body)) {
        snprintf(why, (size_t)n, "simulated conv kernel: %s", sim_error());
        return -1;
    }
    return 0;
}

int conv_igemm_fwd_sim(enum dtype dt, const struct conv_shape *s, const void *x, const void *w, void *y, char *why, int n)
{
    igemm_geom g = igemm_geom_make(s->n, s->c, s->h, s->w, s->k, s->r, s->s, conv_p(s), conv_q(s), s->stride, s->pad, s->pad, s->dil);
    g.rsc = dt != DT_F32 && igemm_rsc_ok(g);
    return fwd_launch(dt, g, x, w, y, why, n);
}

int conv_igemm_dgrad_sim(enum dtype dt, const struct conv_shape *s, const void *dy, const void *w, void *dx, char *why, int n)
{
    dgrad_plan pl;
    if (dgrad_plan_make(&pl, s->n, s->c, s->h, s->w, s->k, s->r, s->s, conv_p(s), conv_q(s), s->stride, s->pad, s->dil, dt != DT_F32)) {
        snprintf(why, (size_t)n, "no stride-phase plan for stride %d, %dx%d", s->stride, s->r, s->s);
        return -1;
    }
    const size_t es = dtype_size(dt);
    /* sub-filters start NaN: an element the filter kernel misses poisons the result */
    std::vector<uint32_t> wsub(((size_t)pl.welems * es + 3) / 4, 0xffffffffu);
    unsigned total = (unsigned)conv_w_elems(s);
    std::function<void()> fill;
    if (es == 2) fill = [&] { dgrad_filter_kernel<uint16_t>(total, pl, (const uint16_t *)w, (uint16_t *)wsub.data()); };
    else fill = [&] { dgrad_filter_kernel<uint32_t>(total, pl, (const uint32_t *)w, wsub.data()); };
    if (sim_launch(3, 1, 64, 0, fill)) {   /* a grid smaller than the work: the grid-stride loop runs */
        snprintf(why, (size_t)n, "simulated dgrad filter kernel: %s", sim_error());
        return -1;
    }
    if (pl.zero_first) memset(dx, 0, conv_x_elems(s) * es);
    if (!pl.phases) return 0;
    std::function<void()> body;
    const bool vec = dgrad_vec(pl);
    if (dt == DT_BF16) {
        using T = __nv_bfloat16;
        if (vec) body = [&] { conv_dgrad_igemm_kernel<T, true>(pl, (const T *)dy, (const T *)wsub.data(), (T *)dx); };
        else body = [&] { conv_dgrad_igemm_kernel<T, false>(pl, (const T *)dy, (const T *)wsub.data(), (T *)dx); };
    } else if (dt == DT_F16) {
        using T = __half;
        if (vec) body = [&] { conv_dgrad_igemm_kernel<T, true>(pl, (const T *)dy, (const T *)wsub.data(), (T *)dx); };
        else body = [&] { conv_dgrad_igemm_kernel<T, false>(pl, (const T *)dy, (const T *)wsub.data(), (T *)dx); };
    } else if (dt == DT_F32) {
        body = [&] { conv_dgrad_igemm_f32_kernel(pl, (const float *)dy, (const float *)wsub.data(), (float *)dx); };
    } else {
        snprintf(why, (size_t)n, "no implicit GEMM for %s", dtype_name(dt));
        return -1;
    }
    const bool f32 = dt == DT_F32;
    if (sim_launch3((unsigned)dgrad_col_tiles(pl, f32 ? FG_BN : IG_BN), (unsigned)((s->c + IG_BM - 1) / IG_BM), (unsigned)pl.phases,
                    f32 ? FG_THREADS : IG_THREADS, f32 ? conv_igemm_f32_smem() : conv_igemm_smem(), body)) {
        snprintf(why, (size_t)n, "simulated conv kernel: %s", sim_error());
        return -1;
    }
    return 0;
}

int conv_dgrad_plan_check(int h, int r, int st, int pad, int dil, int *taps, int *pixels)
{
    const int p = (h + 2 * pad - dil * (r - 1) - 1) / st + 1, e = dil / dgrad_gcd(st, dil);
    dgrad_plan pl;
    if (dgrad_plan_make(&pl, 1, 1, h, h, 1, r, r, p, p, st, pad, dil, false)) return -1;
    const dgrad_dim &d = pl.dh;
    int bad = 0;
    *taps = *pixels = 0;
    for (int ph = 0; ph < st; ph++) {
        *taps += d.taps[ph];
        *pixels += d.out[ph];
        for (int i = 0; i < d.out[ph]; i++)
            for (int rr = 0; rr < r; rr++) {
                const int num = ph + i * st + pad - rr * dil;   /* st · (the dy row this tap reads), if it divides */
                if (d.phase_of[rr] != ph) {
                    bad += num % st == 0;   /* a tap that reaches this pixel left out of its phase */
                    continue;
                }
                bad += d.pos_of[rr] < 0 || d.pos_of[rr] >= d.taps[ph];
                bad += num != st * (i - d.pad[ph] + d.pos_of[rr] * e);   /* the phase's forward reads that row */
            }
        for (int pw = 0; pw < st; pw++) {
            const int k = pl.index[ph][pw];
            if (k < 0) continue;
            const igemm_geom &g = pl.g[k];
            bad += g.P != d.out[ph] || g.Q != d.out[pw] || g.R != d.taps[ph] || g.S != d.taps[pw] || g.o0 != ph * h + pw || g.os != st ||
                   g.H != p || g.W != p || g.stride != 1 || g.dil != e;
        }
    }
    return bad;
}

int conv_igemm_wgrad_sim(enum dtype dt, const struct conv_shape *s, int sms, const void *x, const void *dy, void *dw, char *why, int n)
{
    igemm_geom g = igemm_geom_make(s->n, s->c, s->h, s->w, s->k, s->r, s->s, conv_p(s), conv_q(s), s->stride, s->pad, s->pad, s->dil);
    int slices, per = wgrad_slice_len(g, sms, (size_t)64 << 20, &slices);
    size_t count = (size_t)g.K * g.CRS;
    std::vector<float> part((size_t)slices * count, NAN);   /* a partial never written stays NaN */
    std::function<void()> body;
    const bool rsc = dt != DT_F32 && igemm_rsc_ok(g);   /* as conv_cuda.cu's bwd_filter_igemm */
    if (dt == DT_BF16) {
        using T = __nv_bfloat16;
        if (rsc) body = [&] { conv_wgrad_igemm_kernel<T, true>(g, per, (const T *)x, (const T *)dy, part.data()); };
        else body = [&] { conv_wgrad_igemm_kernel<T, false>(g, per, (const T *)x, (const T *)dy, part.data()); };
    } else if (dt == DT_F16) {
        using T = __half;
        if (rsc) body = [&] { conv_wgrad_igemm_kernel<T, true>(g, per, (const T *)x, (const T *)dy, part.data()); };
        else body = [&] { conv_wgrad_igemm_kernel<T, false>(g, per, (const T *)x, (const T *)dy, part.data()); };
    } else if (dt == DT_F32) {
        body = [&] { conv_wgrad_igemm_f32_kernel(g, per, (const float *)x, (const float *)dy, part.data()); };
    } else {
        snprintf(why, (size_t)n, "no implicit GEMM for %s", dtype_name(dt));
        return -1;
    }
    if (sim_launch3((unsigned)((g.CRS + IG_BN - 1) / IG_BN), (unsigned)((g.K + IG_BM - 1) / IG_BM), (unsigned)slices,
                    dt == DT_F32 ? FG_THREADS : IG_THREADS, dt == DT_F32 ? conv_igemm_f32_smem() : conv_igemm_smem(), body)) {
        snprintf(why, (size_t)n, "simulated conv kernel: %s", sim_error());
        return -1;
    }
    for (size_t j = 0; j < count; j++) {
        float sum = 0;
        for (int k = 0; k < slices; k++) sum += part[(size_t)k * count + j];
        if (dt == DT_F32) ((float *)dw)[j] = sum;
        else ((uint16_t *)dw)[j] = dt == DT_BF16 ? f32_to_bf16(sum) : f32_to_f16(sum);
    }
    return 0;
}
