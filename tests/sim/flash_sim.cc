/* flash_sim.cc: the flash variant's kernels compiled for the host and launched on the simulator
 * (cuda_sim.h) with gpu/flash_cuda.cu's grids and shared-memory sizes; the backward's two small
 * kernels around the fused one (dO·O per row, dQ from its fp32 accumulator) are plain loops here. */
#include "cuda_sim.h"
DLBENCH_SIM_KERNELS_BEGIN
#include "flash_kernels.cuh"
DLBENCH_SIM_KERNELS_END
using namespace dlbench_sim;
#include "flash_sim.h"
#include <stdio.h>

static int use_ldm = 1, use_mt = 1;
static char err[300];

void flash_sim_options(int ldmatrix, int reverse, int mt)
{
    use_ldm = ldmatrix;
    use_mt = mt;
    sim_set_reverse(reverse != 0);
    sim_set_eager_copies(reverse != 0);
}

const char *flash_sim_error(void) { return err; }

int flash_sim_bwd_offered(int d, size_t optin, int ids[3], int *dropped) { return flash_bwd_offered(d, optin, ids, dropped); }

static int launched(int rc)
{
    if (rc) snprintf(err, sizeof err, "simulated flash kernel: %s", sim_error());
    return rc;
}

template <class T, int D, int LD, int MT>
static int fwd_launch_mt(const attn_shape *s, const void *q, const void *k, const void *v, void *o, float *lse)
{
    auto body = [&] {
        flash_fwd_kernel<T, D, LD, MT>(s->H, s->T, s->ld_in, s->ld_out, LOG2E / sqrtf((float)D), (const T *)q, (const T *)k, (const T *)v,
                                       (T *)o, lse);
    };
    return launched(sim_launch((unsigned)((s->T + 64 * MT - 1) / (64 * MT)), (unsigned)(s->B * s->H), FLASH_THREADS, flash_fwd_smem(D, MT),
                               body));
}

template <class T, int D, int LD> static int fwd_launch(const attn_shape *s, const void *q, const void *k, const void *v, void *o, float *lse)
{
    if (use_mt >= 2) return fwd_launch_mt<T, D, LD, 2>(s, q, k, v, o, lse);
    return fwd_launch_mt<T, D, LD, 1>(s, q, k, v, o, lse);
}

template <class T, int D, int LD, int V>
static int bwd_launch_v(const attn_shape *s, const void *q, const void *k, const void *v, const void *dout, const float *lse,
                        const float *Dv, float *acc, void *dk, void *dv)
{
    constexpr int KT = flash_bwd_kt(D, V), NW = flash_bwd_nw(D, V), keys = 16 * KT * NW;
    float scale = 1.f / sqrtf((float)D);
    auto body = [&] {
        flash_bwd_kernel<T, D, LD, KT, NW>(s->H, s->T, s->ld_in, s->ld_out, LOG2E * scale, scale, (const T *)q, (const T *)k,
                                           (const T *)v, (const T *)dout, lse, Dv, acc, (T *)dk, (T *)dv);
    };
    return launched(sim_launch((unsigned)((s->T + keys - 1) / keys), (unsigned)(s->B * s->H), 32 * NW, flash_bwd_smem(D, V), body));
}

template <class T, int D, int LD, bool DB>
static int bwd_launch_split(const attn_shape *s, const void *q, const void *k, const void *v, const void *dout, const float *lse,
                            const float *Dv, float *acc, void *dk, void *dv)
{
    float scale = 1.f / sqrtf((float)D);
    auto body = [&] {
        flash_bwd_split_kernel<T, D, LD, DB>(s->H, s->T, s->ld_in, s->ld_out, LOG2E * scale, scale, (const T *)q, (const T *)k,
                                             (const T *)v, (const T *)dout, lse, Dv, acc, (T *)dk, (T *)dv);
    };
    return launched(sim_launch((unsigned)((s->T + 127) / 128), (unsigned)(s->B * s->H), 256, flash_bwd_split_smem(D, DB), body));
}

/* The backward variant use_mt names where d has it, else the one below it. */
template <class T, int D, int LD>
static int bwd_launch(const attn_shape *s, const void *q, const void *k, const void *v, const void *dout, const float *lse, const float *Dv,
                      float *acc, void *dk, void *dv)
{
    if constexpr (flash_bwd_has(D, 3)) {
        if (use_mt == 3) return bwd_launch_split<T, D, LD, true>(s, q, k, v, dout, lse, Dv, acc, dk, dv);
        if (use_mt == 4) return bwd_launch_split<T, D, LD, false>(s, q, k, v, dout, lse, Dv, acc, dk, dv);
    }
    if constexpr (flash_bwd_has(D, 2))
        if (use_mt >= 2) return bwd_launch_v<T, D, LD, 2>(s, q, k, v, dout, lse, Dv, acc, dk, dv);
    return bwd_launch_v<T, D, LD, 1>(s, q, k, v, dout, lse, Dv, acc, dk, dv);
}

#define BY_HEAD(d, ld, F, ...)                                                                \
    ((d) == 64 ? ((ld) ? F<T, 64, 1>(__VA_ARGS__) : F<T, 64, 0>(__VA_ARGS__))                \
     : (d) == 80 ? ((ld) ? F<T, 80, 1>(__VA_ARGS__) : F<T, 80, 0>(__VA_ARGS__))              \
                 : ((ld) ? F<T, 128, 1>(__VA_ARGS__) : F<T, 128, 0>(__VA_ARGS__)))

static int check_shape(enum dtype dt, const attn_shape *s)
{
    if ((dt != DT_BF16 && dt != DT_F16) || (s->d != 64 && s->d != 80 && s->d != 128) || s->ld_in % 8 || s->ld_out % 8) {
        snprintf(err, sizeof err, "simulated flash kernel: %s d=%d ld %ld/%ld is no shape the kernels take", dtype_name(dt), s->d, s->ld_in,
                 s->ld_out);
        return -1;
    }
    return 0;
}

static float to_f(enum dtype dt, uint16_t h) { return dt == DT_BF16 ? bf16_to_f32(h) : f16_to_f32(h); }

size_t attention_workspace_flash_sim(enum dtype dt, const struct attn_shape *s)
{
    (void)dt;
    return ((size_t)s->B * s->T * s->H * s->d + (size_t)s->B * s->H * s->T) * sizeof(float) + 256;
}

int attention_fwd_flash_sim(enum dtype dt, const struct attn_shape *s, const void *q, const void *k, const void *v, void *o, float *lse,
                            void *ws)
{
    (void)ws;
    if (check_shape(dt, s)) return -1;
    if (dt == DT_BF16) {
        using T = __nv_bfloat16;
        return BY_HEAD(s->d, use_ldm, fwd_launch, s, q, k, v, o, lse);
    }
    using T = __half;
    return BY_HEAD(s->d, use_ldm, fwd_launch, s, q, k, v, o, lse);
}

int attention_bwd_flash_sim(enum dtype dt, const struct attn_shape *s, const void *q, const void *k, const void *v, const void *o,
                            const void *dout, const float *lse, void *dq, void *dk, void *dv, void *ws)
{
    if (check_shape(dt, s)) return -1;
    const int B = s->B, H = s->H, Tn = s->T, d = s->d;
    size_t nacc = (size_t)B * Tn * H * d;
    float *acc = (float *)ws, *Dv = acc + nacc;
    memset(acc, 0, nacc * sizeof(float));
    const uint16_t *po = (const uint16_t *)o, *pdo = (const uint16_t *)dout;
    for (int b = 0; b < B; b++)   /* D[(b·H + h)·T + t] = dO·O of that row */
        for (int t = 0; t < Tn; t++)
            for (int h = 0; h < H; h++) {
                size_t row = ((size_t)b * Tn + t) * s->ld_out + (size_t)h * d;
                float sum = 0;
                for (int j = 0; j < d; j++) sum += to_f(dt, pdo[row + j]) * to_f(dt, po[row + j]);
                Dv[((size_t)b * H + h) * Tn + t] = sum;
            }
    int rc;
    if (dt == DT_BF16) {
        using T = __nv_bfloat16;
        rc = BY_HEAD(d, use_ldm, bwd_launch, s, q, k, v, dout, lse, Dv, acc, dk, dv);
    } else {
        using T = __half;
        rc = BY_HEAD(d, use_ldm, bwd_launch, s, q, k, v, dout, lse, Dv, acc, dk, dv);
    }
    if (rc) return rc;
    const float scale = 1.f / sqrtf((float)d);
    uint16_t *pq = (uint16_t *)dq;
    for (size_t bt = 0; bt < (size_t)B * Tn; bt++)   /* dq = scale · acc, in dt with dq's row stride */
        for (int c = 0; c < H * d; c++) {
            float x = acc[bt * H * d + c] * scale;
            pq[bt * s->ld_in + c] = dt == DT_BF16 ? f32_to_bf16(x) : f32_to_f16(x);
        }
    return 0;
}
