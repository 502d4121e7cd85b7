/* peak_cpu.c: an FMA-bound loop for the CPU's FLOP/s ceiling: independent accumulator chains per
 * thread (enough to cover FMA latency times the FMA ports), no memory traffic. */
#include "cpu_ops.h"
#include <omp.h>

#ifdef __AVX512F__
#define LANES 16
#define NACC 12     /* 32 zmm registers: 12 chains + constants */
#else
#define LANES 8
#define NACC 10     /* 16 ymm registers */
#endif
typedef float vf __attribute__((vector_size(LANES * 4)));

double fma_peak_flops_per_iter_cpu(void) { return 2.0 * LANES * NACC * omp_get_max_threads(); }

int fma_peak_cpu(long iters, float *out)
{
    float total = 0;
#pragma omp parallel reduction(+ : total)
    {
        vf acc[NACC], m, a;
        for (int l = 0; l < LANES; l++) { m[l] = 0.999999f; a[l] = 1e-6f; }
        for (int j = 0; j < NACC; j++) acc[j] = m * (float)(j + omp_get_thread_num());
        for (long i = 0; i < iters; i++)
            for (int j = 0; j < NACC; j++) acc[j] = acc[j] * m + a;
        for (int j = 0; j < NACC; j++)
            for (int l = 0; l < LANES; l++) total += acc[j][l];
    }
    *out = total; /* consumed so the loop cannot be removed */
    return 0;
}
