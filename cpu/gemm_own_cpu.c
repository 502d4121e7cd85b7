/* gemm_own_cpu.c: dlbench's own fp32 GEMM beside OpenBLAS's sgemm (gemm_cpu.c and conv_cpu.c time
 * both at a shape's first call and keep the faster): the blocking, the packing schedule and the
 * threads, on the widest vector set the CPU has (gemm_avx512_cpu.c: 12 x 32 register tiles;
 * gemm_avx2_cpu.c: 6 x 16; each fills the table in gemm_own_cpu.h). C = op(A)·op(B), row-major.
 * Scheme (BLIS's loops, with the roles of A and B swapped for row-major C; MR x NR the set's tile):
 *   blocks of up to 2048 rows x 2048 columns x 2048 deep; per block, op(A) is packed into panels of
 *   MR rows, once, by all threads together, slice by slice of KC deep (then a barrier: the only
 *   one per block); op(B) is packed into panels of NR columns by each thread, a run at a time,
 *   right before the run is used, so the packed run is written into the L2 that reads it (packing B
 *   for the whole block beforehand sent 16 MiB through L3 and back: +1-5% at 1-2 threads without
 *   it, paired with MKL; threads that share columns of C each pack them). The caller may ask for
 *   shallower slices, for two hyperthreads that share one L1 (gemm_cpu.c times 192-deep slices from
 *   4 threads); each thread owns a rectangle of C (a gm x gn grid as square as the thread count
 *   allows) and, per slice, runs through runs of NB = 256 columns (KC x NB floats that stay in L2),
 *   and for each A panel (MR x KC, in L1) through the run's B panels. Tiles at C's edges run on a
 *   zero-padded scratch tile. C is written, never cleared first: OpenBLAS 0.3.21 zeroes C in a pass
 *   of its own when beta = 0 (sgemm_beta: ~10% of the MLP training step's samples on a Zen 3).
 * An op(A) used by many products (a convolution's filter, image after image) may be packed once
 * beforehand in the same layout (gemm_own_cpu_pack, then gemm_own_cpu_packed: no A packing and no
 * barriers per call). The measured figures per set are at the top of its file. */
#include "cpu_ops.h"
#include "gemm_own_cpu.h"
#include <omp.h>
#include <stdio.h>
#include <string.h>

int gemm_own_cpu_isa;    /* tests: 0 the widest set the CPU has; 256 or 512 forces AVX2 or AVX-512 */

#define NB 256            /* columns of B per L2-resident run */
#define MB 2048           /* rows, columns and depth of the blocks packed at once (16 MiB each at most) */
#define NBIG 2048
#define KB 2048

/* Packing space, per thread (a caller's threads may each run the kernel inside its own parallel
 * region): scratch_grow_cpu, so timed calls neither allocate nor fault pages after the first. */
static _Thread_local struct scratch_cpu abuf, bbuf;

static const struct gemm_isa_cpu *isa(void)
{
    const struct gemm_isa_cpu *wide = &gemm_isa_avx512_cpu, *narrow = &gemm_isa_avx2_cpu;
    if (gemm_own_cpu_isa == 256) return narrow->available() ? narrow : NULL;
    if (gemm_own_cpu_isa == 512) return wide->available() ? wide : NULL;
    return wide->available() ? wide : narrow->available() ? narrow : NULL;
}

int gemm_own_cpu_available(void) { return isa() != NULL; }

const char *gemm_own_cpu_name(void)
{
    const struct gemm_isa_cpu *I = isa();
    static _Thread_local char name[48];
    if (!I) return "no AVX2+FMA";
    snprintf(name, sizeof name, "%s sgemm kernel (%dx%d)", I->name, I->mr, I->nr);
    return name;
}

/* The gm x gn grid of t rectangles over mu row panels and nu column panels whose rectangles are
 * closest to square in elements (the least of A and B read per FLOP from L3). */
static void grid(int t, long mu, long nu, int mr, int nr, int *gm, int *gn)
{
    double best = -1;
    *gm = t, *gn = 1;
    for (int d = 1; d <= t; d++) {
        if (t % d || d > mu || t / d > nu) continue;
        double h = (double)mu * mr / d, w = (double)nu * nr / (t / d), sq = h < w ? h / w : w / h;
        if (sq > best) best = sq, *gm = d, *gn = t / d;
    }
}

/* One MR x NR tile of C: straight into C, or through a scratch tile at C's edges. */
static inline void tile(const struct gemm_isa_cpu *I, long kc, const float *ap, const float *bp, float *c, long ldc, int mr, int nr,
                        int acc, const float *an)
{
    if (mr == I->mr && nr == I->nr) { I->kernel(kc, ap, bp, c, ldc, acc, an); return; }
    float t[GEMM_OWN_MR_MAX * GEMM_OWN_NR_MAX] __attribute__((aligned(64)));
    I->kernel(kc, ap, bp, t, I->nr, 0, an);
    for (int r = 0; r < mr; r++)
        for (int s = 0; s < nr; s++) c[r * ldc + s] = (acc ? c[r * ldc + s] : 0) + t[r * I->nr + s];
}

int gemm_own_cpu(int kc_slice, int ta, int tb, int m, int n, int k, const float *a, const float *b, float *c)
{
    return gemm_own_cpu_ld(kc_slice, ta, tb, m, n, k, a, ta ? m : k, b, tb ? k : n, 0, c, n);
}

/* The packed op(A) (m x k) in one buffer, for gemm_own_cpu_packed: block (ic, pb) of MB rows and KB
 * deep at a_block(), laid out as the core packs a block (slice pc's panel q at pc·pa·MR + q·MR·kc). */
static long panels(long rows, int mr) { return (rows + mr - 1) / mr; }
static size_t a_block(const struct gemm_isa_cpu *I, long m, long k, long ic, long pb)
{
    long mc = m - ic < MB ? m - ic : MB;
    return (size_t)(ic / MB) * panels(MB, I->mr) * I->mr * k + (size_t)panels(mc, I->mr) * I->mr * pb;
}

size_t gemm_own_cpu_packed_size(int m, int k)
{
    const struct gemm_isa_cpu *I = isa();
    return I && m > 0 && k > 0 ? a_block(I, m, k, (m - 1) / MB * MB, k) : 0;
}

int gemm_own_cpu_pack(int ta, int m, int k, const float *a, long lda, float *ap)
{
    const struct gemm_isa_cpu *I = isa();
    if (!I) return -1;
    const int MR = I->mr;
    const long ks = I->kc, pmax = panels(m < MB ? m : MB, MR), nkb = (k + KB - 1) / KB, n_all = (m + MB - 1) / MB * pmax * nkb;
    /* (block of rows, its panel q, depth block) over the threads; panels count from each block's
     * first row, as the core's do (MB is no multiple of MR) */
#pragma omp parallel for schedule(static) if (omp_get_max_threads() > 1 && !omp_in_parallel() && (long)m * k >= 65536)
    for (long t = 0; t < n_all; t++) {
        long ic = t / (pmax * nkb) * MB, q = t % pmax, pb = t / pmax % nkb * KB;
        long mc = m - ic < MB ? m - ic : MB, pa = panels(mc, MR), kcb = k - pb < KB ? k - pb : KB;
        if (q >= pa) continue;
        float *blk = ap + a_block(I, m, k, ic, pb);
        for (long pc = 0; pc < kcb; pc += ks) {
            int kc = (int)(kcb - pc < ks ? kcb - pc : ks);
            I->pack_a(ta, a, lda, ic + q * MR, (int)(mc - q * MR < MR ? mc - q * MR : MR), pb + pc, kc, blk + pc * pa * MR + q * MR * kc);
        }
    }
    return 0;
}

static int gemm_core(int kc_slice, int ta, int tb, int m, int n, int k, const float *a, long lda, const float *apacked,
                     const float *b, long ldb, int accumulate, float *c, long ldc);

int gemm_own_cpu_ld(int kc_slice, int ta, int tb, int m, int n, int k, const float *a, long lda, const float *b, long ldb,
                    int accumulate, float *c, long ldc)
{
    return gemm_core(kc_slice, ta, tb, m, n, k, a, lda, NULL, b, ldb, accumulate, c, ldc);
}

int gemm_own_cpu_packed(int m, int n, int k, const float *ap, int tb, const float *b, long ldb, int accumulate, float *c, long ldc)
{
    return gemm_core(0, 0, tb, m, n, k, NULL, 0, ap, b, ldb, accumulate, c, ldc);
}

/* C (+)= op(A)·op(B); op(A) packed here, or already by gemm_own_cpu_pack (apacked, default slices). */
static int gemm_core(int kc_slice, int ta, int tb, int m, int n, int k, const float *a, long lda, const float *apacked,
                     const float *b, long ldb, int accumulate, float *c, long ldc)
{
    const struct gemm_isa_cpu *I = isa();
    if (!I) return -1;
    if (m <= 0 || n <= 0) return 0;
    if (k <= 0) {
        for (long i = 0; i < m && !accumulate; i++) memset(c + i * ldc, 0, n * sizeof *c);
        return 0;
    }
    const int MR = I->mr, NR = I->nr;
    int t = omp_in_parallel() ? 1 : omp_get_max_threads();
    const long ks = kc_slice >= 16 && kc_slice <= KB && !apacked ? kc_slice : I->kc;
    long mb = m < MB ? m : MB, nb = n < NBIG ? n : NBIG, kb = k < KB ? k : KB;
    long mu = (mb + MR - 1) / MR, nu = (nb + NR - 1) / NR;
    if (t > mu * nu) t = (int)(mu * nu);
    int gm, gn;
    grid(t, mu, nu, MR, NR, &gm, &gn);
    t = gm * gn;
    float *ab = apacked ? NULL : scratch_grow_cpu(&abuf, (size_t)mu * MR * kb), *bb = scratch_grow_cpu(&bbuf, (size_t)t * NB * ks);
    if ((!ab && !apacked) || !bb) return -1;
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
                     * panel q at ab + pc·pa + q·MR·kc (or so packed beforehand) */
                    const float *blk = ab;
                    if (apacked) blk = apacked + a_block(I, m, k, ic, pb);
                    else {
#pragma omp barrier
                        for (long q = id; q < pa; q += t)
                            for (long pc = 0; pc < kcb; pc += ks) {
                                int kc = (int)(kcb - pc < ks ? kcb - pc : ks);
                                I->pack_a(ta, a, lda, ic + q * MR, (int)(mc - q * MR < MR ? mc - q * MR : MR), pb + pc, kc,
                                          ab + pc * pa * MR + q * MR * kc);
                            }
#pragma omp barrier
                    }
                    long a0 = pa * ri / gm, a1 = pa * (ri + 1) / gm, b0 = pn * rj / gn, b1 = pn * (rj + 1) / gn;   /* this thread's panels */
                    for (long pc = 0; pc < kcb; pc += ks) {
                        long kc = kcb - pc < ks ? kcb - pc : ks;
                        int acc = accumulate || pb + pc > 0;
                        for (long jb = b0; jb < b1; jb += NB / NR) {         /* a run of B panels that stays in L2 */
                            long je = b1 < jb + NB / NR ? b1 : jb + NB / NR;
                            for (long j = jb; j < je; j++)
                                I->pack_b(tb, b, ldb, pb + pc, (int)kc, jc + j * NR, (int)(nc - j * NR < NR ? nc - j * NR : NR),
                                          run + (j - jb) * NR * kc);
                            for (long q = a0; q < a1; q++) {                 /* an A panel that stays in L1 */
                                long i0 = q * MR;
                                int mr = (int)(mc - i0 < MR ? mc - i0 : MR);
                                const float *aq = blk + pc * pa * MR + q * MR * kc;
                                for (long j = jb; j < je; j++) {
                                    long j0 = j * NR;
                                    tile(I, kc, aq, run + (j - jb) * NR * kc, c + (ic + i0) * ldc + jc + j0, ldc, mr,
                                         (int)(nc - j0 < NR ? nc - j0 : NR), acc, j + 1 == je && q + 1 < a1 ? aq + MR * kc : aq);
                                }
                            }
                        }
                    }
                }
    }
    return 0;
}
