/* eltwise_sim.cc: the bias-add kernels compiled for the host and launched on the simulator with
 * bias_add_cuda's plan and grid (see eltwise_sim.h). */
#include "cuda_sim.h"
DLBENCH_SIM_KERNELS_BEGIN
#include "bias_add_kernels.cuh"
DLBENCH_SIM_KERNELS_END
using namespace dlbench_sim;
#include "eltwise_sim.h"
#include <stdio.h>

template <class T>
static int launch(int outer, int ch, int inner, const void *x, const float *bias, void *y, int sms, int *path, char *why, int n)
{
    const bias_add_plan p = bias_add_plan_make(outer, ch, inner, sizeof(T), x, bias, y, sms);
    const int per_col = inner == 1;
    std::function<void()> body;
    if (p.vec && p.bias16)
        body = [&] { bias_add16_kernel<T, true>(p.rows, p.nv, ch, per_col, (const uint4 *)x, bias, (uint4 *)y); };
    else if (p.vec)
        body = [&] { bias_add16_kernel<T, false>(p.rows, p.nv, ch, per_col, (const uint4 *)x, bias, (uint4 *)y); };
    else
        body = [&] { bias_add_kernel<T>(p.rows, p.len, ch, per_col, (const T *)x, bias, (T *)y); };
    *path = p.vec ? 1 + p.bias16 : 0;
    if (sim_launch(p.blocks, 1, p.threads, 0, body)) {
        snprintf(why, (size_t)n, "simulated bias-add kernel: %s", sim_error());
        return -1;
    }
    return 0;
}

int bias_add_sim(enum dtype dt, int outer, int ch, int inner, const void *x, const float *bias, void *y, int sms, int *path,
                 char *why, int n)
{
    if (outer <= 0 || ch <= 0 || inner <= 0) return 0;   /* as bias_add_cuda */
    if (dt == DT_BF16) return launch<__nv_bfloat16>(outer, ch, inner, x, bias, y, sms, path, why, n);
    if (dt == DT_F16) return launch<__half>(outer, ch, inner, x, bias, y, sms, path, why, n);
    return launch<float>(outer, ch, inner, x, bias, y, sms, path, why, n);
}
