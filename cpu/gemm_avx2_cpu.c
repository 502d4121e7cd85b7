/* gemm_avx2_cpu.c: the AVX2 half of dlbench's own fp32 GEMM (gemm_own_cpu.c holds the blocking,
 * packing schedule and threads; gemm_own_cpu.h the table this file fills), for CPUs with AVX2 and
 * FMA but not AVX-512 (AMD Zen 1-3, Intel before Skylake-SP and its client cores): a 6 x 16
 * register tile and the packing of A and B panels, compiled for AVX2 + FMA whatever MARCH says.
 * C = op(A)·op(B), row-major.
 *   Micro-kernel (BLIS's Haswell/Zen sgemm shape): 6 x 16 of C in 12 ymm accumulators; per k two
 *   aligned loads of B (streamed from L2), six broadcasts of A from L1, 12
 *   FMAs: 6 cycles at two FMA ports, 8 loads (1.3 a cycle of the 3 a Zen 3 core has); 15 of the 16
 *   ymm registers. KC = 384: an A panel is 6 x 384 floats (9 KiB, L1), a run of B 384 x 256 (384
 *   KiB of a Zen 3's 512 KiB L2).
 *   Packing: row-major A is transposed 8 k at a time (an 8 x 8 shuffle network over 6 rows and two
 *   zero ones), transposed B likewise per 8-column half; A stored (K, M) and B stored (K, N) are
 *   copied, B with masked loads at its edge (masked stores are slow on AMD: none are used).
 * Floor: 2·m·n·k FLOPs ÷ the FMA loop's rate (peak_cpu.c), 191 GFLOP/s on the 2-vCPU Zen 3 (EPYC,
 * family 25 model 1) at 2 threads, where OpenBLAS 0.3.21 (Zen core) and PyTorch 1.13 on it ran
 * 2048³ at 140-142 (74%). */
#include "gemm_own_cpu.h"
#include <immintrin.h>
#include <stdint.h>

#define TARGET __attribute__((target("avx2,fma")))
#define MR 6              /* rows of a C tile: broadcasts of A */
#define NR 16             /* columns of a C tile: two vectors of B */
#define KC_DEFAULT 384

/* c (MR x NR at stride ldc) = (acc ? c : 0) + ap (kc x MR, in L1) · bp (kc x NR, streamed from L2);
 * an: the A panel to pull into L1 meanwhile (gemm_own_cpu.c chooses it), a line every two k-steps.
 * B is not prefetched by hand: the hardware's stream prefetcher keeps up with one line a step, and
 * a prefetch a step cost 8-20% of the kernel alone on panels in L2 (2-vCPU Zen 3). */
TARGET static void kernel(long kc, const float *restrict ap, const float *restrict bp, float *restrict c, long ldc, int acc,
                          const float *an)
{
    __m256 c0a = _mm256_setzero_ps(), c0b = c0a, c1a = c0a, c1b = c0a, c2a = c0a, c2b = c0a;
    __m256 c3a = c0a, c3b = c0a, c4a = c0a, c4b = c0a, c5a = c0a, c5b = c0a;
#define ROW(i, x, y) { __m256 s = _mm256_broadcast_ss(ap + (i)); x = _mm256_fmadd_ps(s, b0, x); y = _mm256_fmadd_ps(s, b1, y); }
/* The empty asm pins b0 and b1 to registers: without it GCC 12 folds the loads of B into the
 * FMAs, 12 loads a step instead of 2, and the loop ran at 0.65x OpenBLAS. */
#define STEP { __m256 b0 = _mm256_load_ps(bp), b1 = _mm256_load_ps(bp + 8); __asm__("" : "+x"(b0), "+x"(b1)); \
        ROW(0, c0a, c0b) ROW(1, c1a, c1b) ROW(2, c2a, c2b) ROW(3, c3a, c3b) ROW(4, c4a, c4b) ROW(5, c5a, c5b) \
        ap += MR; bp += NR; }
    long p = 0;
    for (; p < kc && p < MR; p++) {     /* the C tile's lines are fetched while the first steps run */
        _mm_prefetch((const char *)(c + p * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + p * ldc + NR - 1), _MM_HINT_T0);
        STEP
    }
    for (; p + 2 <= kc; p += 2) {
        _mm_prefetch((const char *)an, _MM_HINT_T0);
        an += 2 * MR;
        STEP STEP
    }
    for (; p < kc; p++) STEP
#undef STEP
#undef ROW
#define OUT(i, x, y) { float *r = c + (i) * ldc; \
        if (acc) { x = _mm256_add_ps(x, _mm256_loadu_ps(r)); y = _mm256_add_ps(y, _mm256_loadu_ps(r + 8)); } \
        _mm256_storeu_ps(r, x); _mm256_storeu_ps(r + 8, y); }
    OUT(0, c0a, c0b) OUT(1, c1a, c1b) OUT(2, c2a, c2b) OUT(3, c3a, c3b) OUT(4, c4a, c4b) OUT(5, c5a, c5b)
#undef OUT
}

/* v[j][i] = s[i * lds + j] for 8 columns j and rows i < rows (zero for rows up to 8): an 8 x 8
 * transpose in three shuffle stages. */
TARGET static inline void transpose8(const float *s, long lds, int rows, __m256 v[8])
{
    __m256 r[8], t[8];
    for (int i = 0; i < 8; i++) r[i] = i < rows ? _mm256_loadu_ps(s + i * lds) : _mm256_setzero_ps();
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);       /* a0 b0 a1 b1 | a4 b4 a5 b5 */
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);   /* a2 b2 a3 b3 | a6 b6 a7 b7 */
    }
    for (int i = 0; i < 8; i += 4) {
        r[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);          /* a0 b0 c0 d0 | a4 b4 c4 d4 */
        r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);      /* column 1 | 5 */
        r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);  /* column 2 | 6 */
        r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);  /* column 3 | 7 */
    }
    for (int j = 0; j < 4; j++) {
        v[j] = _mm256_permute2f128_ps(r[j], r[j + 4], 0x20);
        v[j + 4] = _mm256_permute2f128_ps(r[j], r[j + 4], 0x31);
    }
}

/* Six floats: lanes 0-5 of v (two stores: the panel's next row must not be overwritten, as another
 * thread may be writing it). */
TARGET static inline void store6(float *d, __m256 v)
{
    _mm_storeu_ps(d, _mm256_castps256_ps128(v));
    _mm_storel_pi((__m64 *)(d + 4), _mm256_extractf128_ps(v, 1));
}

/* Panel of op(A): rows i0.. (mr of them, zero-padded to MR), k p0.. (kc): dst[p][i]. */
TARGET static void pack_a(int ta, const float *a, long lda, long i0, int mr, long p0, int kc, float *restrict dst)
{
    if (ta) {   /* A stored (K, M): MR consecutive floats per k */
        for (int p = 0; p < kc; p++) {
            const float *s = a + (p0 + p) * lda + i0;
            if (mr == MR) {
                _mm_storeu_ps(dst + p * MR, _mm_loadu_ps(s));
                _mm_storel_pi((__m64 *)(dst + p * MR + 4), _mm_loadl_pi(_mm_setzero_ps(), (const __m64 *)(s + 4)));
            } else
                for (int i = 0; i < MR; i++) dst[p * MR + i] = i < mr ? s[i] : 0;
        }
        return;
    }
    int p = 0;          /* A stored (M, K): six rows transposed 8 k at a time */
    for (; p + 8 <= kc; p += 8) {
        __m256 v[8];
        transpose8(a + i0 * lda + p0 + p, lda, mr, v);
        for (int j = 0; j < 8; j++) store6(dst + (p + j) * MR, v[j]);
    }
    for (; p < kc; p++)
        for (int i = 0; i < MR; i++) dst[p * MR + i] = i < mr ? a[(i0 + i) * lda + p0 + p] : 0;
}

/* The first n (0..8) lanes set. */
TARGET static inline __m256i lanes(int n)
{
    static const int32_t ones[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256((const __m256i *)(ones + 8 - n));
}

/* Panel of op(B): k p0.. (kc), columns j0.. (nr, zero-padded to NR): dst[p][j]. */
TARGET static void pack_b(int tb, const float *b, long ldb, long p0, int kc, long j0, int nr, float *restrict dst)
{
    if (!tb) {  /* B stored (K, N): NR consecutive floats per k */
        __m256i lo = lanes(nr >= 8 ? 8 : nr), hi = lanes(nr >= 16 ? 8 : nr <= 8 ? 0 : nr - 8);
        for (int p = 0; p < kc; p++) {
            const float *s = b + (p0 + p) * ldb + j0;
            if (nr == NR) {
                _mm256_store_ps(dst + p * NR, _mm256_loadu_ps(s));
                _mm256_store_ps(dst + p * NR + 8, _mm256_loadu_ps(s + 8));
            } else {
                _mm256_store_ps(dst + p * NR, _mm256_maskload_ps(s, lo));
                _mm256_store_ps(dst + p * NR + 8, _mm256_maskload_ps(s + 8, hi));
            }
        }
        return;
    }
    int p = 0;          /* B stored (N, K): two 8-column halves transposed 8 k at a time */
    for (; p + 8 <= kc; p += 8)
        for (int h = 0; h < 2; h++) {
            int rows = nr - 8 * h < 0 ? 0 : nr - 8 * h > 8 ? 8 : nr - 8 * h;
            __m256 v[8];
            transpose8(b + (j0 + 8 * h) * ldb + p0 + p, ldb, rows, v);
            for (int j = 0; j < 8; j++) _mm256_store_ps(dst + (p + j) * NR + 8 * h, v[j]);
        }
    for (; p < kc; p++)
        for (int j = 0; j < NR; j++) dst[p * NR + j] = j < nr ? b[(j0 + j) * ldb + p0 + p] : 0;
}

static int available(void) { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }

const struct gemm_isa_cpu gemm_isa_avx2_cpu = {"AVX2", MR, NR, KC_DEFAULT, available, kernel, pack_a, pack_b};
