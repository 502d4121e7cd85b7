/* conv_sim.cc: the implicit-GEMM convolution kernel compiled for the host and launched on the
 * simulator with conv_cuda.cu's grid and shared memory (see conv_sim.h). */
#include "cuda_sim.h"
#include "conv_igemm.cuh"
#include "conv_sim.h"
#include <stdio.h>

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
    } else {
        snprintf(why, (size_t)n, "the implicit GEMM is fp16/bf16 only, not %s", dtype_name(dt));
        return -1;
    }
    if (sim_launch(gx, gy, IG_THREADS, conv_igemm_smem(), body)) {
        snprintf(why, (size_t)n, "simulated conv kernel: %s", sim_error());
        return -1;
    }
    return 0;
}
