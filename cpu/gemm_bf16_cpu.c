/* gemm_bf16_cpu.c: bf16 GEMM with fp32 accumulation on AVX512-BF16 (vdpbf16ps): native, not
 * emulated. Compiled for that target whatever MARCH says, and used only when cpuid reports it.
 * Scheme: op(A) packed to (M padded to 6, K/2) pairs, op(B) to 32-column panels of K/2 pairs
 * ("VNNI" layout), then a 6x32 register-tile kernel over (panel, row block) tiles in parallel. */
#include "cpu_ops.h"
#include "cpu_topology.h"
#include <immintrin.h>
#include <string.h>

#define MR 6
#define NR 32
#define TARGET __attribute__((target("avx512f,avx512bw,avx512bf16")))

static struct scratch_cpu scratch;   /* grow-only: no page faults inside timed calls after the first */

int gemm_bf16_cpu_available(void) { return cpu_has_native_bf16(); }

static inline uint16_t opa(int ta, int m, int k, const uint16_t *a, long i, long p)
{ return ta ? a[p * m + i] : a[i * k + p]; }
static inline uint16_t opb(int tb, int n, int k, const uint16_t *b, long p, long j)
{ return tb ? b[j * k + p] : b[p * n + j]; }

/* c(rows x cols) = Σ_p a-pairs(6 rows) · b-pairs(panel): 12 accumulators of 16 fp32. */
TARGET static void kernel_6x32(long kp, const uint32_t *ap, const uint32_t *bp, float *c, long ldc, int rows, int cols)
{
    __m512 acc[MR][2];
    for (int r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    for (long p = 0; p < kp; p++) {
        __m512bh b0 = (__m512bh)_mm512_loadu_si512(bp + p * NR);
        __m512bh b1 = (__m512bh)_mm512_loadu_si512(bp + p * NR + 16);
        for (int r = 0; r < MR; r++) {
            __m512bh a = (__m512bh)_mm512_set1_epi32((int)ap[r * kp + p]);
            acc[r][0] = _mm512_dpbf16_ps(acc[r][0], a, b0);
            acc[r][1] = _mm512_dpbf16_ps(acc[r][1], a, b1);
        }
    }
    __mmask16 m0 = cols >= 16 ? 0xffff : (__mmask16)((1u << cols) - 1);
    __mmask16 m1 = cols >= 32 ? 0xffff : cols > 16 ? (__mmask16)((1u << (cols - 16)) - 1) : 0;
    for (int r = 0; r < rows; r++) {
        _mm512_mask_storeu_ps(c + r * ldc, m0, acc[r][0]);
        _mm512_mask_storeu_ps(c + r * ldc + 16, m1, acc[r][1]);
    }
}

int gemm_bf16_cpu(int ta, int tb, int m, int n, int k, const uint16_t *a, const uint16_t *b, float *c)
{
    if (!cpu_has_native_bf16()) return -1;
    long kp = (k + 1) / 2, mb = (m + MR - 1) / MR, nb = (n + NR - 1) / NR;
    size_t words = (size_t)(mb * MR * kp + nb * NR * kp);
    uint32_t *ap = (uint32_t *)scratch_grow_cpu(&scratch, words);   /* a bf16 pair a float's 4 bytes */
    if (!ap) return -1;
    uint32_t *bp = ap + mb * MR * kp;
    /* Pack: pair (p) holds elements 2p (low half) and 2p+1 (high half); padding is zero. */
#pragma omp parallel
    {
#pragma omp for schedule(static) nowait
        for (long i = 0; i < mb * MR; i++)
            for (long p = 0; p < kp; p++) {
                uint32_t lo = i < m ? opa(ta, m, k, a, i, 2 * p) : 0;
                uint32_t hi = i < m && 2 * p + 1 < k ? opa(ta, m, k, a, i, 2 * p + 1) : 0;
                ap[i * kp + p] = lo | hi << 16;
            }
#pragma omp for schedule(static)
        for (long jb = 0; jb < nb; jb++)
            for (long p = 0; p < kp; p++)
                for (long jj = 0; jj < NR; jj++) {
                    long j = jb * NR + jj;
                    uint32_t lo = j < n ? opb(tb, n, k, b, 2 * p, j) : 0;
                    uint32_t hi = j < n && 2 * p + 1 < k ? opb(tb, n, k, b, 2 * p + 1, j) : 0;
                    bp[(jb * kp + p) * NR + jj] = lo | hi << 16;
                }
        /* Tiles ordered panel-major: a thread's run of tiles reuses one B panel from its L2. */
#pragma omp for collapse(2) schedule(static)
        for (long jb = 0; jb < nb; jb++)
            for (long ib = 0; ib < mb; ib++) {
                int rows = m - ib * MR < MR ? (int)(m - ib * MR) : MR;
                int cols = n - jb * NR < NR ? (int)(n - jb * NR) : NR;
                kernel_6x32(kp, ap + ib * MR * kp, bp + jb * kp * NR, c + ib * MR * (long)n + jb * NR, n, rows, cols);
            }
    }
    return 0;
}
