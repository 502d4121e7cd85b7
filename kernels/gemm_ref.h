/* gemm_ref.h: ground truth for C = op(A)·op(B): FLOP/byte counts, a dense double reference for
 * tests, and the check every GEMM result passes (Freivalds in double + sampled elements). */
#ifndef DLBENCH_GEMM_REF_H
#define DLBENCH_GEMM_REF_H
#include <stdint.h>
#include "dtype.h"

/* Row-major. A is stored (M,K), or (K,M) when ta; B is (K,N), or (N,K) when tb; C is (M,N) fp32. */
double gemm_flops(int m, int n, int k);
double gemm_bytes(int m, int n, int k, enum dtype dt);   /* inputs in dt, output fp32 */

void gemm_ref(int ta, int tb, int m, int n, int k, const float *a, const float *b, double *c);

/* Largest error found, each normalised by ‖row i of op(A)‖₂·‖col j of op(B)‖₂ (the scale that
 * fp rounding errors of a length-K dot product follow); +inf when C holds a NaN or inf.
 * a and b hold the exact values the backend multiplied (already rounded to the input dtype). */
double gemm_check(int ta, int tb, int m, int n, int k, const float *a, const float *b,
                  const float *c, uint64_t seed);

/* Tolerance for gemm_check: rounding of the inputs by the unit (tf32 only: fp16/bf16 inputs are
 * rounded before the reference sees them) plus fp32 accumulation growing like sqrt(K). */
double gemm_tolerance(enum dtype dt, int k);
#endif
