/* gemm_avx512_cpu.c: the AVX-512 half of dlbench's own fp32 GEMM (gemm_own_cpu.c holds the blocking,
 * packing schedule and threads; gemm_own_cpu.h the table this file fills): a 12 x 32 register tile
 * and the packing of A and B panels, compiled for AVX-512 whatever MARCH says and used only when
 * cpuid and the OS report AVX-512F. C = op(A)·op(B), row-major.
 *   Micro-kernel: 12 x 32 of C in 24 zmm accumulators; per k two vector loads of B (streamed from
 *   L2, prefetched 8 k ahead), twelve broadcasts of A, 24 FMAs: 12 cycles at two FMA ports, 1.2
 *   loads per cycle. KC = 384 as BLIS's Skylake-X sgemm (256 and 384 were level within the 2-vCPU
 *   VM's noise): an A panel (12 x 384 floats, 18 KiB) stays in L1.
 *   Packing: row-major A (the usual case) is transposed 16 k at a time (a 16 x 16 shuffle network),
 *   transposed B likewise; A stored (K, M) and B stored (K, N) are copied with masked vector loads.
 * Floor: 2·m·n·k FLOPs ÷ the FMA loop's rate (peak_cpu.c); packing reads A and B once per block
 * pair. Measured on the 2-vCPU VM (Xeon family 6 model 207), 2048³, paired medians of 21 calls
 * alternating with OpenBLAS 0.3.21 (Cooperlake) and MKL 2026.2 (scripts/sgemm-peers.sh), six runs:
 * 1 thread 0.995-1.05x OpenBLAS, 0.91-0.96x MKL; 2 threads 1.01-1.09x OpenBLAS, 0.90-0.96x MKL; the
 * micro-kernel alone, on packed panels in L1/L2, 89-98% of the FMA loop (the VM's two speed modes).
 * With B packed per thread (four more runs): 1 thread 1.03-1.08x OpenBLAS, 0.93-0.98x MKL; 2 threads
 * 1.02-1.08x OpenBLAS, 0.90-0.97x MKL. What is left, by timing variants that drop one part (wrong
 * results, timing only): C's loads and stores 2-4%, A's packing ~2%, and at 2 threads the end-of-call
 * wait when one vCPU runs slower (5-9% of a call); claiming column runs dynamically recovered that
 * in one VM phase (+5-12%) but lost 2-6% on other shapes in the next, so the split stays static.
 * MKL's C came out bit-equal to this kernel's at 2048³ (the same 384-deep slices, it seems). */
#include "gemm_own_cpu.h"
#include <immintrin.h>

#define TARGET __attribute__((target("avx512f")))
#define MR 12             /* rows of a C tile: broadcasts of A */
#define NR 32             /* columns of a C tile: two vectors of B */
#define KC_DEFAULT 384    /* k-depth of a slice: an A panel (12 x 384 floats, 18 KiB) stays in L1 */
#define PFD 8             /* k-steps of B prefetched ahead (1 KiB) */

/* c (MR x NR at stride ldc) = (acc ? c : 0) + ap (kc x MR, in L1) · bp (kc x NR, streamed from L2);
 * an: the A panel to pull into L1 meanwhile, a line per k-step (ap itself but on a run's last B
 * panel, where the next A panel comes in from L3 instead of stalling the next call's first steps:
 * +2-5% at one thread on the 2-vCPU VM, level at two). */
TARGET static void kernel(long kc, const float *restrict ap, const float *restrict bp, float *restrict c, long ldc, int acc,
                          const float *an)
{
    __m512 c0a = _mm512_setzero_ps(), c0b = c0a, c1a = c0a, c1b = c0a, c2a = c0a, c2b = c0a, c3a = c0a, c3b = c0a;
    __m512 c4a = c0a, c4b = c0a, c5a = c0a, c5b = c0a, c6a = c0a, c6b = c0a, c7a = c0a, c7b = c0a;
    __m512 c8a = c0a, c8b = c0a, c9a = c0a, c9b = c0a, cAa = c0a, cAb = c0a, cBa = c0a, cBb = c0a;
#define ROW(i, x, y) { __m512 s = _mm512_set1_ps(ap[i]); x = _mm512_fmadd_ps(s, b0, x); y = _mm512_fmadd_ps(s, b1, y); }
#define STEP { __m512 b0 = _mm512_load_ps(bp), b1 = _mm512_load_ps(bp + 16); \
        _mm_prefetch((const char *)(bp + PFD * NR), _MM_HINT_T0); _mm_prefetch((const char *)(bp + PFD * NR + 16), _MM_HINT_T0); _mm_prefetch((const char *)an, _MM_HINT_T0); \
        ROW(0, c0a, c0b) ROW(1, c1a, c1b) ROW(2, c2a, c2b) ROW(3, c3a, c3b) ROW(4, c4a, c4b) ROW(5, c5a, c5b) \
        ROW(6, c6a, c6b) ROW(7, c7a, c7b) ROW(8, c8a, c8b) ROW(9, c9a, c9b) ROW(10, cAa, cAb) ROW(11, cBa, cBb) \
        ap += MR; bp += NR; an += MR; }
    long p = 0;
    for (; p < kc && p < MR; p++) {     /* the C tile's lines are fetched while the first steps run */
        _mm_prefetch((const char *)(c + p * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + p * ldc + 16), _MM_HINT_T0);
        STEP
    }
    for (; p < kc; p++) STEP
#undef STEP
#undef ROW
#define OUT(i, x, y) { float *r = c + (i) * ldc; \
        if (acc) { x = _mm512_add_ps(x, _mm512_loadu_ps(r)); y = _mm512_add_ps(y, _mm512_loadu_ps(r + 16)); } \
        _mm512_storeu_ps(r, x); _mm512_storeu_ps(r + 16, y); }
    OUT(0, c0a, c0b) OUT(1, c1a, c1b) OUT(2, c2a, c2b) OUT(3, c3a, c3b) OUT(4, c4a, c4b) OUT(5, c5a, c5b)
    OUT(6, c6a, c6b) OUT(7, c7a, c7b) OUT(8, c8a, c8b) OUT(9, c9a, c9b) OUT(10, cAa, cAb) OUT(11, cBa, cBb)
#undef OUT
}

/* dst[p * dstride + i] = s[i * lds + p] for 16 columns p and rows i < rows (zero for rows up to
 * 16; lanes outside keep are not written): a 16 x 16 transpose in four shuffle stages. */
TARGET static void transpose16(const float *s, long lds, int rows, float *restrict dst, long dstride, __mmask16 keep)
{
    __m512 r[16], t[16];
    for (int i = 0; i < 16; i++) r[i] = i < rows ? _mm512_loadu_ps(s + i * lds) : _mm512_setzero_ps();
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
        r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xEE);
        r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int i = 0; i < 4; i++) {
        t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
        t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xDD);
        t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
        t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xDD);
    }
    for (int i = 0; i < 8; i++) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xDD);
    }
    for (int j = 0; j < 16; j++) _mm512_mask_storeu_ps(dst + j * dstride, keep, r[j]);   /* r[j]: column j */
}

/* Panel of op(A): rows i0.. (mr of them, zero-padded to MR), k p0.. (kc): dst[p][i]. */
TARGET static void pack_a(int ta, const float *a, long lda, long i0, int mr, long p0, int kc, float *restrict dst)
{
    if (ta) {   /* A stored (K, M): MR consecutive floats per k */
        __mmask16 in = (__mmask16)((1u << mr) - 1);
        for (int p = 0; p < kc; p++)
            _mm512_mask_storeu_ps(dst + p * MR, (1u << MR) - 1, _mm512_maskz_loadu_ps(in, a + (p0 + p) * lda + i0));
        return;
    }
    int p = 0;          /* A stored (M, K): twelve rows transposed 16 k at a time */
    for (; p + 16 <= kc; p += 16) transpose16(a + i0 * lda + p0 + p, lda, mr, dst + p * MR, MR, 0x0FFF);
    for (; p < kc; p++)
        for (int i = 0; i < MR; i++) dst[p * MR + i] = i < mr ? a[(i0 + i) * lda + p0 + p] : 0;
}

/* Panel of op(B): k p0.. (kc), columns j0.. (nr, zero-padded to NR): dst[p][j]. */
TARGET static void pack_b(int tb, const float *b, long ldb, long p0, int kc, long j0, int nr, float *restrict dst)
{
    if (!tb) {  /* B stored (K, N): NR consecutive floats per k */
        __mmask16 lo = nr >= 16 ? 0xFFFF : (__mmask16)((1u << nr) - 1), hi = nr >= 32 ? 0xFFFF : nr <= 16 ? 0 : (__mmask16)((1u << (nr - 16)) - 1);
        for (int p = 0; p < kc; p++) {
            const float *s = b + (p0 + p) * ldb + j0;
            _mm512_store_ps(dst + p * NR, _mm512_maskz_loadu_ps(lo, s));
            _mm512_store_ps(dst + p * NR + 16, _mm512_maskz_loadu_ps(hi, s + 16));
        }
        return;
    }
    int p = 0;          /* B stored (N, K): two 16-column halves transposed 16 k at a time */
    for (; p + 16 <= kc; p += 16)
        for (int h = 0; h < 2; h++) {
            int rows = nr - 16 * h < 0 ? 0 : nr - 16 * h > 16 ? 16 : nr - 16 * h;
            transpose16(b + (j0 + 16 * h) * ldb + p0 + p, ldb, rows, dst + p * NR + 16 * h, NR, 0xFFFF);
        }
    for (; p < kc; p++)
        for (int j = 0; j < NR; j++) dst[p * NR + j] = j < nr ? b[(j0 + j) * ldb + p0 + p] : 0;
}

static int available(void) { return __builtin_cpu_supports("avx512f") != 0; }

const struct gemm_isa_cpu gemm_isa_avx512_cpu = {"AVX-512", MR, NR, KC_DEFAULT, available, kernel, pack_a, pack_b};
