/* fill_cpu.c: seeded inputs generated where the CPU backend's data lives (host memory), and the
 * NaN/Inf scan of an output, both in parallel: each page is first touched by the OpenMP thread of
 * the static schedule that the ops use (the same first-touch placement as cpu_copy). */
#include "cpu_ops.h"
#include "cbrng.h"
#include <math.h>
#include <stdint.h>

int fill_cpu(void *dst, enum dtype dt, size_t n, uint64_t key, float lo, float hi)
{
    long ln = (long)n;
    if (dt == DT_F16 || dt == DT_BF16) {
        uint16_t *h = dst;
        int half = dt == DT_F16;
#pragma omp parallel for schedule(static)
        for (long i = 0; i < ln; i++) {
            float v = cbrng_uniform(key, (uint64_t)i, lo, hi);
            h[i] = half ? f32_to_f16(v) : f32_to_bf16(v);
        }
        return 0;
    }
    float *f = dst; /* fp32, and tf32 (stored as fp32; the tensor cores round it) */
#pragma omp parallel for schedule(static)
    for (long i = 0; i < ln; i++) f[i] = cbrng_uniform(key, (uint64_t)i, lo, hi);
    return 0;
}

int scan_nonfinite_cpu(const void *src, enum dtype dt, size_t n, size_t *count, size_t *first)
{
    size_t bad = 0, at = n;
    long ln = (long)n;
    const float *f = src;
    const uint16_t *h = src;
    uint16_t mask = dtype_nonfinite_mask(dt);   /* 0: fp32 storage */
#pragma omp parallel for schedule(static) reduction(+ : bad) reduction(min : at)
    for (long i = 0; i < ln; i++)
        if (mask ? (h[i] & mask) == mask : !isfinite(f[i])) { bad++; if ((size_t)i < at) at = (size_t)i; }
    *count = bad;
    *first = at;
    return 0;
}
