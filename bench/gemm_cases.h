/* gemm_cases.h: the GEMM shape record used by bench/gemm_cases.c and the GEMM workload. */
#ifndef DLBENCH_GEMM_CASES_H
#define DLBENCH_GEMM_CASES_H
#include "workload.h"

struct gemm_shape { int m, n, k, ta, tb; };   /* C(m,n) = op(A)(m,k) · op(B)(k,n), row-major */

extern const struct wcase gemm_cases[];
#endif
