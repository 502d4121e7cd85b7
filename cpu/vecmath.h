/* vecmath.h: lets GCC vectorise expf and tanhf inside `omp simd` loops by declaring glibc's
 * libmvec variants (_ZGV*_expf, _ZGV*_tanhf; max error 4 ulp), which math.h only declares under
 * -ffast-math. Without them each element costs a scalar libm call (measured: GELU at 1.7 GB/s
 * instead of bandwidth-bound). Link with -lmvec. */
#ifndef DLBENCH_VECMATH_H
#define DLBENCH_VECMATH_H
#include <math.h>

float expf(float) __attribute__((__simd__("notinbranch"), __nothrow__, __leaf__));
float tanhf(float) __attribute__((__simd__("notinbranch"), __nothrow__, __leaf__));
#define vexpf expf
#define vtanhf tanhf
#endif
