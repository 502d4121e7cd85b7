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
#include <vector>

int conv_igemm_fwd_sim(enum dtype dt, const struct conv_shape *s, const void *x, const void *w, void *y, char *why, int n)
{
    igemm_geom g = igemm_geom_make(s->n, s->c, s->h, s->w, s->k, s->r, s->s, conv_p(s), conv_q(s), s->stride, s->pad, s->pad, s->dil);
    unsigned gx = (unsigned)((g.NPQ + IG_BN - 1) / IG_BN), gy = (unsigned)((g.K + IG_BM - 1) / IG_BM);
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

int conv_igemm_wgrad_sim(enum dtype dt, const struct conv_shape *s, int sms, const void *x, const void *dy, void *dw, char *why, int n)
{
    igemm_geom g = igemm_geom_make(s->n, s->c, s->h, s->w, s->k, s->r, s->s, conv_p(s), conv_q(s), s->stride, s->pad, s->pad, s->dil);
    int slices, per = wgrad_slice_len(g, sms, (size_t)64 << 20, &slices);
    size_t count = (size_t)g.K * g.CRS;
    std::vector<float> part((size_t)slices * count, NAN);   /* a partial never written stays NaN */
    std::function<void()> body;
    if (dt == DT_BF16) {
        using T = __nv_bfloat16;
        body = [&] { conv_wgrad_igemm_kernel<T>(g, per, (const T *)x, (const T *)dy, part.data()); };
    } else if (dt == DT_F16) {
        using T = __half;
        body = [&] { conv_wgrad_igemm_kernel<T>(g, per, (const T *)x, (const T *)dy, part.data()); };
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
