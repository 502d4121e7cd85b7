/* cbrng.h: the counter-based input generator, bit-identical in C and CUDA. Element i of stream
 * `key` is a pure function of (key, i): the splitmix64 finaliser of a Weyl counter, so any element
 * can be made anywhere: by a CUDA thread next to the data, by an OpenMP thread on the host, or by
 * a check that needs one sampled input without materialising its array. */
#ifndef DLBENCH_CBRNG_H
#define DLBENCH_CBRNG_H
#include <math.h>
#include <stdint.h>
#ifdef __CUDACC__
#define CBRNG_FN __host__ __device__ static inline
#else
#define CBRNG_FN static inline
#endif

#define CBRNG_GAMMA 0x9e3779b97f4a7c15ull

CBRNG_FN uint64_t cbrng_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* The key of stream `stream` under `seed` (as kernels/rng.c seeds its sequential streams). */
CBRNG_FN uint64_t cbrng_key(uint64_t seed, uint64_t stream)
{
    return cbrng_mix(seed * CBRNG_GAMMA ^ (stream + 1) * 0xbf58476d1ce4e5b9ull);
}

CBRNG_FN uint64_t cbrng_bits(uint64_t key, uint64_t i) { return cbrng_mix(key + (i + 1) * CBRNG_GAMMA); }

/* Element i, uniform in [lo, hi): 24 random bits scaled exactly to [0, 1), then one correctly
 * rounded fused multiply-add, so C (fmaf) and CUDA (__fmaf_rn) agree whatever either compiler
 * contracts. lo == hi gives lo everywhere (NaN: a NaN poison). */
CBRNG_FN float cbrng_uniform(uint64_t key, uint64_t i, float lo, float hi)
{
    float u = (float)(uint32_t)(cbrng_bits(key, i) >> 40) * 0x1p-24f;
#ifdef __CUDA_ARCH__
    return __fmaf_rn(hi - lo, u, lo);
#else
    return fmaf(hi - lo, u, lo);
#endif
}
#endif
