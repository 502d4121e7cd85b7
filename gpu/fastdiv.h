/* fastdiv.h: division of a 32-bit index n < 2^31 by a divisor fixed at launch as one multiply-high
 * and a shift (Granlund-Montgomery, as CUTLASS's FastDivmod), for kernel index math: a plain
 * integer division by a run-time value costs ~20 instructions per element. The host makes the
 * divisor; kernels (and host tests) divide. */
#ifndef DLBENCH_FASTDIV_H
#define DLBENCH_FASTDIV_H
#include <stdint.h>
#ifdef __CUDACC__
#define FASTDIV_FN __host__ __device__ __forceinline__
#else
#define FASTDIV_FN static inline
#endif

/* n / d = (n · mul) >> (32 + shr) with mul = ceil(2^(31 + l) / d), l = ceil(log2 d): exact for
 * every n < 2^31 (the rounding error of mul stays below 1/d of one quotient step). d = 1: mul 0. */
struct fastdiv { uint32_t d, mul, shr; };

FASTDIV_FN struct fastdiv fastdiv_make(uint32_t d)   /* 1 <= d <= 2^31 */
{
    struct fastdiv f = {d, 0, 0};
    if (d <= 1) return f;
    uint32_t l = 0;
    while (l < 32 && (1ull << l) < d) l++;
    uint64_t p = 31 + l;
    f.mul = (uint32_t)(((1ull << p) + d - 1) / d);
    f.shr = (uint32_t)(p - 32);
    return f;
}

FASTDIV_FN uint32_t fastdiv_div(uint32_t n, struct fastdiv f)   /* n < 2^31 */
{
#ifdef __CUDA_ARCH__
    uint32_t hi = __umulhi(n, f.mul);
#else
    uint32_t hi = (uint32_t)(((uint64_t)n * f.mul) >> 32);
#endif
    return f.d == 1 ? n : hi >> f.shr;
}
#endif
