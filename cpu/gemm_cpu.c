/* gemm_cpu.c: GEMM on the CPU: fp32 through OpenBLAS's cblas_sgemm (OpenMP build), bf16
 * through our AMX kernel where the processor and OS allow tiles, else our AVX512-BF16 kernel. */
#include "cpu_ops.h"
#include <cblas.h>

int gemm_cpu(enum dtype dt, int ta, int tb, int m, int n, int k, const void *a, const void *b, float *c)
{
    if (dt == DT_BF16 && gemm_amx_cpu_available()) { /* AMX tiles where granted, else vdpbf16ps */
        cpu_last_impl = CPU_IMPL_AMX_KERNEL;
        return gemm_amx_cpu(ta, tb, m, n, k, a, b, c);
    }
    cpu_last_impl = dt == DT_BF16 ? CPU_IMPL_BF16_KERNEL : CPU_IMPL_SGEMM;
    if (dt == DT_BF16) return gemm_bf16_cpu(ta, tb, m, n, k, a, b, c);
    if (dt != DT_F32) return -1;
    /* Packed row-major: lda is op(A)'s stored row length. */
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                m, n, k, 1.0f, a, ta ? m : k, b, tb ? k : n, 0.0f, c, n);
    return 0;
}
