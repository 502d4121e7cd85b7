/* gemm_bf16_cpu.c: bf16 GEMM with fp32 accumulation on AVX512-BF16 (vdpbf16ps), not emulated.
 * Placeholder entry until the kernel lands: reports the op as unavailable. */
#include "cpu_ops.h"

int gemm_bf16_cpu_available(void) { return 0; }

int gemm_bf16_cpu(int ta, int tb, int m, int n, int k, const uint16_t *a, const uint16_t *b, float *c)
{
    (void)ta; (void)tb; (void)m; (void)n; (void)k; (void)a; (void)b; (void)c;
    return -1;
}
