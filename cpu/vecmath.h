/* vecmath.h: the CPU's vectorisable transcendental functions: glibc's libmvec variant of expf
 * (_ZGV*_expf; max error 4 ulp), declared so that GCC uses it inside `omp simd` loops (math.h
 * declares it only under -ffast-math; without it each element costs a scalar libm call: GELU
 * at 1.7 GB/s instead of bandwidth-bound), and GELU built on it for every CPU op that has one
 * (eltwise_cpu.c, transformer_cpu.c). Link with -lmvec. */
#ifndef DLBENCH_VECMATH_H
#define DLBENCH_VECMATH_H
#include "eltwise_ref.h"   /* GELU_K0, GELU_K1 */
#include <math.h>

float expf(float) __attribute__((__simd__("notinbranch"), __nothrow__, __leaf__));
#define vexpf expf

/* GELU, tanh approximation (kernels/eltwise_ref.h's constants), through the logistic function:
 * 0.5·(1 + tanh u) = σ(2u) = 1 / (1 + e^(-2u)), u = K0·(x + K1·x³), so gelu(x) = x·σ(2u) and, as
 * 1 - tanh² u = 4σ(1 - σ), gelu'(x) = σ + 2x·σ(1 - σ)·K0·(1 + 3K1·x²). One expf instead of
 * tanhf, which costs 1.4x as much in libmvec (GELU forward in L1 on one Zen 3 thread: 1.1 instead
 * of 1.7-1.8 ns an element), and no cancellation in 1 + tanh u where x is very negative. */
static inline float gelu_sigma_cpu(float x)
{
    float u = (float)GELU_K0 * (x + (float)GELU_K1 * x * x * x);
    return 1.0f / (1.0f + vexpf(-2.0f * u));
}
static inline float gelu_cpu(float x) { return x * gelu_sigma_cpu(x); }
static inline float gelu_grad_cpu(float x)
{
    float s = gelu_sigma_cpu(x);
    return s + 2.0f * x * s * (1.0f - s) * (float)GELU_K0 * (1.0f + (float)(3 * GELU_K1) * x * x);
}
#endif
