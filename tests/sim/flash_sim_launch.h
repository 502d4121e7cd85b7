/* flash_sim_launch.h: the launch templates of the simulated flash kernels (gpu/flash_kernels.cuh on
 * cuda_sim.h), with gpu/flash_cuda.cu's grids and shared-memory sizes, instantiated for one dtype
 * per translation unit: flash_sim_bf16.cc and flash_sim_f16.cc include this header once each. The
 * split is for the build's sake: the ~60 kernel instantiations in one file took 150 s of g++ under
 * ASan + UBSan (CI's SAN build), the last object to finish, on one core; two files halve that tail.
 * flash_sim.cc holds the dtype dispatch, the options and the backward's small loops. */
#ifndef DLBENCH_FLASH_SIM_LAUNCH_H
#define DLBENCH_FLASH_SIM_LAUNCH_H
#include "cuda_sim.h"
DLBENCH_SIM_KERNELS_BEGIN
#include "flash_kernels.cuh"
DLBENCH_SIM_KERNELS_END
using namespace dlbench_sim;
#include "attention_ref.h"

extern int flash_sim_ldm, flash_sim_mt;   /* flash_sim_options(): fragment loads, kernel variant */
int flash_sim_launched(int rc);           /* rc, with the simulator's error kept for flash_sim_error() */

/* One dtype's entry points, on shapes flash_sim.cc has checked (Dv: the backward's dO·O per row;
 * acc: dQ's fp32 accumulator, zeroed). */
#define FLASH_SIM_DECLARE(sfx)                                                                                                   \
    int flash_sim_fwd_##sfx(const attn_shape *s, const void *q, const void *k, const void *v, void *o, float *lse);             \
    int flash_sim_bwd_##sfx(const attn_shape *s, const void *q, const void *k, const void *v, const void *dout, const float *lse, \
                            const float *Dv, float *acc, void *dk, void *dv);
FLASH_SIM_DECLARE(bf16)
FLASH_SIM_DECLARE(f16)

template <class T, int D, int LD, int MT>
static int fwd_launch_mt(const attn_shape *s, const void *q, const void *k, const void *v, void *o, float *lse)
{
    auto body = [&] {
        flash_fwd_kernel<T, D, LD, MT>(s->H, s->T, s->ld_in, s->ld_out, LOG2E / sqrtf((float)D), (const T *)q, (const T *)k, (const T *)v,
                                       (T *)o, lse);
    };
    return flash_sim_launched(sim_launch((unsigned)((s->T + 64 * MT - 1) / (64 * MT)), (unsigned)(s->B * s->H), FLASH_THREADS, flash_fwd_smem(D, MT),
                               body));
}

template <class T, int D, int LD> static int fwd_launch(const attn_shape *s, const void *q, const void *k, const void *v, void *o, float *lse)
{
    if (flash_sim_mt >= 2) return fwd_launch_mt<T, D, LD, 2>(s, q, k, v, o, lse);
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
    return flash_sim_launched(sim_launch((unsigned)((s->T + keys - 1) / keys), (unsigned)(s->B * s->H), 32 * NW, flash_bwd_smem(D, V), body));
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
    return flash_sim_launched(sim_launch((unsigned)((s->T + 127) / 128), (unsigned)(s->B * s->H), 256, flash_bwd_split_smem(D, DB), body));
}

/* The backward variant flash_sim_mt names where d has it, else the one below it. */
template <class T, int D, int LD>
static int bwd_launch(const attn_shape *s, const void *q, const void *k, const void *v, const void *dout, const float *lse, const float *Dv,
                      float *acc, void *dk, void *dv)
{
    if constexpr (flash_bwd_has(D, 3)) {
        if (flash_sim_mt == 3) return bwd_launch_split<T, D, LD, true>(s, q, k, v, dout, lse, Dv, acc, dk, dv);
        if (flash_sim_mt == 4) return bwd_launch_split<T, D, LD, false>(s, q, k, v, dout, lse, Dv, acc, dk, dv);
    }
    if constexpr (flash_bwd_has(D, 2))
        if (flash_sim_mt >= 2) return bwd_launch_v<T, D, LD, 2>(s, q, k, v, dout, lse, Dv, acc, dk, dv);
    return bwd_launch_v<T, D, LD, 1>(s, q, k, v, dout, lse, Dv, acc, dk, dv);
}

#define BY_HEAD(T, d, ld, F, ...)                                                             \
    ((d) == 64 ? ((ld) ? F<T, 64, 1>(__VA_ARGS__) : F<T, 64, 0>(__VA_ARGS__))                \
     : (d) == 80 ? ((ld) ? F<T, 80, 1>(__VA_ARGS__) : F<T, 80, 0>(__VA_ARGS__))              \
                 : ((ld) ? F<T, 128, 1>(__VA_ARGS__) : F<T, 128, 0>(__VA_ARGS__)))

/* The entry points for element type T, suffix sfx: the head dimension and the fragment loads pick
 * the instantiation. */
#define FLASH_SIM_DEFINE(T, sfx)                                                                                                 \
    int flash_sim_fwd_##sfx(const attn_shape *s, const void *q, const void *k, const void *v, void *o, float *lse)              \
    {                                                                                                                            \
        return BY_HEAD(T, s->d, flash_sim_ldm, fwd_launch, s, q, k, v, o, lse);                                                  \
    }                                                                                                                            \
    int flash_sim_bwd_##sfx(const attn_shape *s, const void *q, const void *k, const void *v, const void *dout, const float *lse, \
                            const float *Dv, float *acc, void *dk, void *dv)                                                     \
    {                                                                                                                            \
        return BY_HEAD(T, s->d, flash_sim_ldm, bwd_launch, s, q, k, v, dout, lse, Dv, acc, dk, dv);                              \
    }
#endif
