/* gemm_avx512_cpu.c: fp32 GEMM on AVX-512 FMA, dlbench's own kernel beside OpenBLAS's sgemm
 * (gemm_cpu.c times both at a shape's first call and keeps the faster). Compiled for AVX-512
 * whatever MARCH says; used only when cpuid and the OS report AVX-512F. C = op(A)·op(B), row-major.
 * Scheme (BLIS's loops, with the roles of A and B swapped for row-major C):
 *   blocks of up to 2048 rows x 2048 columns x 2048 deep; per block, op(A) is packed into panels of
 *   MR = 12 rows, once, by all threads together, slice by slice of KC deep (then a barrier: the only
 *   one per block); op(B) is packed into panels of NR = 32 columns by each thread, a run at a time,
 *   right before the run is used, so the packed run is written into the L2 that reads it (packing B
 *   for the whole block beforehand sent 16 MiB through L3 and back: +1-5% at 1-2 threads without
 *   it, paired with MKL; threads that share columns of C each pack them). KC = 384 as BLIS's Skylake-X sgemm
 *   (256 and 384 were level within the 2-vCPU VM's noise); the caller may ask for shallower slices,
 *   for two hyperthreads that share one L1 (gemm_cpu.c times 192-deep slices from 4 threads);
 *   each thread owns a rectangle of C (a gm x gn grid as square as the thread count allows) and,
 *   per slice, runs through runs of NB = 256 columns (8 B panels, KC x NB = 384 KiB that stay in
 *   L2), and for each A panel (12 x KC = 18 KiB that stays in L1) through the run's B panels.
 *   Micro-kernel: 12 x 32 of C in 24 zmm accumulators; per k two vector loads of B (streamed from
 *   L2, prefetched 8 k ahead), twelve broadcasts of A, 24 FMAs: 12 cycles at two FMA ports, 1.2
 *   loads per cycle. Tiles at C's edges run on a zero-padded scratch tile.
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
#include "cpu_ops.h"
#include <immintrin.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define TARGET __attribute__((target("avx512f")))
#define MR 12             /* rows of a C tile: broadcasts of A */
#define NR 32             /* columns of a C tile: two vectors of B */
#define KC_DEFAULT 384    /* k-depth of a slice: an A panel (12 x 384 floats, 18 KiB) stays in L1 */
#define PFD 8             /* k-steps of B prefetched ahead (1 KiB) */
#define NB 256            /* columns of B per L2-resident run: KC x NB = 384 KiB */
#define MB 2048           /* rows, columns and depth of the blocks packed at once (16 MiB each at most) */
#define NBIG 2048
#define KB 2048

/* Packing space, per thread (a caller's threads may each run the kernel inside its own parallel
 * region): scratch_grow_cpu, so timed calls neither allocate nor fault pages after the first. */
static _Thread_local struct scratch_cpu abuf, bbuf;

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

/* The gm x gn grid of t rectangles over mu row panels and nu column panels whose rectangles are
 * closest to square in elements (the least of A and B read per FLOP from L3). */
static void grid(int t, long mu, long nu, int *gm, int *gn)
{
    double best = -1;
    *gm = t, *gn = 1;
    for (int d = 1; d <= t; d++) {
        if (t % d || d > mu || t / d > nu) continue;
        double h = (double)mu * MR / d, w = (double)nu * NR / (t / d), sq = h < w ? h / w : w / h;
        if (sq > best) best = sq, *gm = d, *gn = t / d;
    }
}

int gemm_avx512_cpu_available(void) { return __builtin_cpu_supports("avx512f") != 0; }

/* One MR x NR tile of C: straight into C, or through a scratch tile at C's edges. */
static inline void tile(long kc, const float *ap, const float *bp, float *c, long ldc, int mr, int nr, int acc, const float *an)
{
    if (mr == MR && nr == NR) { kernel(kc, ap, bp, c, ldc, acc, an); return; }
    float t[MR * NR] __attribute__((aligned(64)));
    kernel(kc, ap, bp, t, NR, 0, an);
    for (int r = 0; r < mr; r++)
        for (int s = 0; s < nr; s++) c[r * ldc + s] = (acc ? c[r * ldc + s] : 0) + t[r * NR + s];
}

int gemm_avx512_cpu(int kc_slice, int ta, int tb, int m, int n, int k, const float *a, const float *b, float *c)
{
    return gemm_avx512_cpu_ld(kc_slice, ta, tb, m, n, k, a, ta ? m : k, b, tb ? k : n, 0, c, n);
}

int gemm_avx512_cpu_ld(int kc_slice, int ta, int tb, int m, int n, int k, const float *a, long lda, const float *b, long ldb,
                       int accumulate, float *c, long ldc)
{
    if (!gemm_avx512_cpu_available()) return -1;
    if (m <= 0 || n <= 0) return 0;
    if (k <= 0) {
        for (long i = 0; i < m && !accumulate; i++) memset(c + i * ldc, 0, n * sizeof *c);
        return 0;
    }
    int t = omp_in_parallel() ? 1 : omp_get_max_threads();
    const long ks = kc_slice >= 16 && kc_slice <= KB ? kc_slice : KC_DEFAULT;
    long mb = m < MB ? m : MB, nb = n < NBIG ? n : NBIG, kb = k < KB ? k : KB;
    long mu = (mb + MR - 1) / MR, nu = (nb + NR - 1) / NR;
    if (t > mu * nu) t = (int)(mu * nu);
    int gm, gn;
    grid(t, mu, nu, &gm, &gn);
    t = gm * gn;
    float *ab = scratch_grow_cpu(&abuf, (size_t)mu * MR * kb), *bb = scratch_grow_cpu(&bbuf, (size_t)t * NB * ks);
    if (!ab || !bb) return -1;
#pragma omp parallel num_threads(t) if (t > 1)
    {
        int id = omp_get_thread_num(), ri = id / gn, rj = id % gn;
        float *run = bb + (size_t)id * NB * ks;                                   /* B panels packed by this thread, into its L2 */
        for (long ic = 0; ic < m; ic += MB)
            for (long jc = 0; jc < n; jc += NBIG)
                for (long pb = 0; pb < k; pb += KB) {
                    long mc = m - ic < MB ? m - ic : MB, nc = n - jc < NBIG ? n - jc : NBIG, kcb = k - pb < KB ? k - pb : KB;
                    long pa = (mc + MR - 1) / MR, pn = (nc + NR - 1) / NR;
                    /* A's block packed once, by all threads, depth slice by depth slice: slice pc's
                     * panel q at ab + pc·pa + q·MR·kc */
#pragma omp barrier
                    for (long q = id; q < pa; q += t)
                        for (long pc = 0; pc < kcb; pc += ks) {
                            int kc = (int)(kcb - pc < ks ? kcb - pc : ks);
                            pack_a(ta, a, lda, ic + q * MR, (int)(mc - q * MR < MR ? mc - q * MR : MR), pb + pc, kc, ab + pc * pa * MR + q * MR * kc);
                        }
#pragma omp barrier
                    long a0 = pa * ri / gm, a1 = pa * (ri + 1) / gm, b0 = pn * rj / gn, b1 = pn * (rj + 1) / gn;   /* this thread's panels */
                    for (long pc = 0; pc < kcb; pc += ks) {
                        long kc = kcb - pc < ks ? kcb - pc : ks;
                        int acc = accumulate || pb + pc > 0;
                        for (long jb = b0; jb < b1; jb += NB / NR) {         /* a run of B panels that stays in L2 */
                            long je = b1 < jb + NB / NR ? b1 : jb + NB / NR;
                            for (long j = jb; j < je; j++)
                                pack_b(tb, b, ldb, pb + pc, (int)kc, jc + j * NR, (int)(nc - j * NR < NR ? nc - j * NR : NR), run + (j - jb) * NR * kc);
                            for (long q = a0; q < a1; q++) {                 /* an A panel that stays in L1 */
                                long i0 = q * MR;
                                int mr = (int)(mc - i0 < MR ? mc - i0 : MR);
                                const float *aq = ab + pc * pa * MR + q * MR * kc;
                                for (long j = jb; j < je; j++) {
                                    long j0 = j * NR;
                                    tile(kc, aq, run + (j - jb) * NR * kc, c + (ic + i0) * ldc + jc + j0, ldc, mr,
                                         (int)(nc - j0 < NR ? nc - j0 : NR), acc, j + 1 == je && q + 1 < a1 ? aq + MR * kc : aq);
                                }
                            }
                        }
                    }
                }
    }
    return 0;
}
