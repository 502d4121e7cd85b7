/* gemm_amx_cpu.c: bf16 GEMM with fp32 accumulation on AMX tiles (tdpbf16ps), dlbench's own kernel
 * for CPUs with AMX-BF16 (Sapphire/Emerald Rapids): 16x more multiply-adds per instruction than
 * vdpbf16ps. Compiled for AMX whatever MARCH says; used only when cpuid reports it and Linux has
 * granted the tile state (cpu_amx_enable).
 * Scheme: op(B) packed once per call into VNNI tiles (16 k-pairs x 16 columns x 2 = 1 KiB, one tile
 * load each), op(A) read in place when it is row-major with K a multiple of 32 (a tile is 16 rows x
 * 32 bf16 at stride K), else packed into 16x32 tiles too. Each thread owns 32x32 blocks of C: four
 * accumulator tiles over the whole K (2 A tiles x 2 B tiles per 32-deep step), stored straight into
 * C, or through a scratch block at the matrix's edges. Blocks run panel-major so a thread's run of
 * blocks reuses one B panel (32 columns x K) from its L2. */
#include "cpu_ops.h"
#include "cpu_features.h"
#include <immintrin.h>
#include <omp.h>
#include <string.h>

#define TARGET __attribute__((target("amx-tile,amx-bf16,avx512f,avx512bw")))
#define TILE_ELEMS 512                 /* 16 rows x 64 bytes of bf16 */

struct tilecfg { uint8_t palette, start; uint8_t pad[14]; uint16_t colsb[16]; uint8_t rows[16]; };
/* ldtilecfg through asm with the whole 64-byte configuration as its operand: GCC 12's
 * _tile_loadconfig lets dead-store elimination drop the rows/colsb stores (seen in an x86-64-v3
 * build: the tiles were configured empty and the first tile load faulted). */
static inline void tile_loadconfig(const struct tilecfg *cfg) { __asm__ volatile("ldtilecfg %0" : : "m"(*cfg)); }

static struct scratch_cpu scratch;    /* grow-only packing space: no page faults in timed calls after the first */

/* elems bf16 of it (scratch_grow_cpu counts floats: two bf16 each). */
static uint16_t *grow(size_t elems) { return (uint16_t *)scratch_grow_cpu(&scratch, (elems + 1) / 2); }

static inline uint16_t opa(int ta, int m, int k, const uint16_t *a, long i, long p) { return ta ? a[p * m + i] : a[i * k + p]; }
static inline uint16_t opb(int tb, int n, int k, const uint16_t *b, long p, long j) { return tb ? b[j * k + p] : b[p * n + j]; }

/* An interior B tile of row-major op(B) = B (K, N): rows 2p and 2p+1 (16 bf16 each) interleaved
 * into one 64-byte tile row by one vpermt2w. */
TARGET static void pack_b_tile_nn(const uint16_t *b, long n, uint16_t *dst)
{
    static const uint16_t idx[32] = {0, 32, 1, 33, 2, 34, 3, 35, 4, 36, 5, 37, 6, 38, 7, 39,
                                     8, 40, 9, 41, 10, 42, 11, 43, 12, 44, 13, 45, 14, 46, 15, 47};
    __m512i ix = _mm512_loadu_si512(idx);
    for (int p = 0; p < 16; p++) {
        __m512i r0 = _mm512_castsi256_si512(_mm256_loadu_si256((const void *)(b + 2 * p * n)));
        __m512i r1 = _mm512_castsi256_si512(_mm256_loadu_si256((const void *)(b + (2 * p + 1) * n)));
        _mm512_storeu_si512(dst + p * 32, _mm512_permutex2var_epi16(r0, ix, r1));
    }
}

/* B tile (jt, kt): element (pair p, column c, half e) = op(B)(32 kt + 2p + e, 16 jt + c), 0 outside.
 * Interior tiles take a fast path: NN interleaves rows; NT (B stored (N, K)) moves whole 32-bit
 * k-pairs, a 16x16 transpose of words. */
static void pack_b(int tb, int n, int k, const uint16_t *b, long nt, long kt_n, uint16_t *bp)
{
#pragma omp for schedule(static)
    for (long t = 0; t < nt * kt_n; t++) {
        long jt = t / kt_n, kt = t % kt_n;
        uint16_t *dst = bp + t * TILE_ELEMS;
        int interior = (jt + 1) * 16 <= n && (kt + 1) * 32 <= k;
        if (interior && !tb) { pack_b_tile_nn(b + kt * 32 * (long)n + jt * 16, n, dst); continue; }
        if (interior && tb && k % 2 == 0) {
            uint32_t *d32 = (uint32_t *)dst;
            for (int c = 0; c < 16; c++) {
                const uint16_t *col = b + (jt * 16 + c) * (long)k + kt * 32;
                for (int p = 0; p < 16; p++) { uint32_t w; memcpy(&w, col + 2 * p, 4); d32[p * 16 + c] = w; }
            }
            continue;
        }
        for (int p = 0; p < 16; p++)
            for (int c = 0; c < 16; c++)
                for (int e = 0; e < 2; e++) {
                    long kk = kt * 32 + 2 * p + e, j = jt * 16 + c;
                    dst[p * 32 + c * 2 + e] = kk < k && j < n ? opb(tb, n, k, b, kk, j) : 0;
                }
    }
}

/* A tile (it, kt): element (row r, column q) = op(A)(16 it + r, 32 kt + q), 0 outside. */
static void pack_a(int ta, int m, int k, const uint16_t *a, long mt, long kt_n, uint16_t *ap)
{
#pragma omp for schedule(static)
    for (long t = 0; t < mt * kt_n; t++) {
        long it = t / kt_n, kt = t % kt_n;
        uint16_t *dst = ap + t * TILE_ELEMS;
        for (int r = 0; r < 16; r++)
            for (int q = 0; q < 32; q++) {
                long i = it * 16 + r, kk = kt * 32 + q;
                dst[r * 32 + q] = i < m && kk < k ? opa(ta, m, k, a, i, kk) : 0;
            }
    }
}

/* C block rows [i0, i0+32) x cols [j0, j0+32): tiles 0..3 = C (2x2 of 16x16 fp32), 4..5 = A,
 * 6..7 = B. A tile it at step kt: packed (ap) or in place (a, row stride lda bytes). */
TARGET static void block_32x32(long it, long jt, long kt_n, const uint16_t *ap, const uint16_t *a, long lda,
                               const uint16_t *bp, float *c, int m, int n)
{
    float edge[32 * 32] __attribute__((aligned(64)));
    _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);
    const uint16_t *b0 = bp + jt * kt_n * TILE_ELEMS, *b1 = b0 + kt_n * TILE_ELEMS;
    for (long kt = 0; kt < kt_n; kt++) {
        if (ap) {
            _tile_loadd(4, ap + (it * kt_n + kt) * TILE_ELEMS, 64);
            _tile_loadd(5, ap + ((it + 1) * kt_n + kt) * TILE_ELEMS, 64);
        } else {
            _tile_loadd(4, a + it * 16 * (lda / 2) + kt * 32, lda);
            _tile_loadd(5, a + (it + 1) * 16 * (lda / 2) + kt * 32, lda);
        }
        _tile_loadd(6, b0 + kt * TILE_ELEMS, 64);
        _tile_loadd(7, b1 + kt * TILE_ELEMS, 64);
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(1, 4, 7);
        _tile_dpbf16ps(2, 5, 6);
        _tile_dpbf16ps(3, 5, 7);
    }
    long i0 = it * 16, j0 = jt * 16;
    if (i0 + 32 <= m && j0 + 32 <= n) {
        float *o = c + i0 * (long)n + j0;
        _tile_stored(0, o, n * 4); _tile_stored(1, o + 16, n * 4);
        _tile_stored(2, o + 16L * n, n * 4); _tile_stored(3, o + 16L * n + 16, n * 4);
        return;
    }
    _tile_stored(0, edge, 128); _tile_stored(1, edge + 16, 128);
    _tile_stored(2, edge + 512, 128); _tile_stored(3, edge + 528, 128);
    for (long r = 0; r < 32 && i0 + r < m; r++)
        memcpy(c + (i0 + r) * (long)n + j0, edge + r * 32, sizeof(float) * (size_t)(n - j0 < 32 ? n - j0 : 32));
}

TARGET static void tiles_on(void)
{
    struct tilecfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int t = 0; t < 8; t++) { cfg.rows[t] = 16; cfg.colsb[t] = 64; }
    tile_loadconfig(&cfg);
}

TARGET static void tiles_off(void) { _tile_release(); }

int gemm_amx_cpu_available(void) { return cpu_bf16_path(cpu_features()) == BF16_AMX && cpu_amx_enable(NULL, 0) == 0; }

int gemm_amx_cpu(int ta, int tb, int m, int n, int k, const uint16_t *a, const uint16_t *b, float *c)
{
    if (!gemm_amx_cpu_available()) return -1;
    /* 32x32 blocks: tile counts rounded up to pairs; K to 32 */
    long mt = ((m + 31) / 32) * 2, nt = ((n + 31) / 32) * 2, kt_n = (k + 31) / 32;
    int in_place = !ta && k % 32 == 0 && m % 32 == 0;  /* A's tiles read straight from A */
    size_t need = (size_t)(nt * kt_n + (in_place ? 0 : mt * kt_n)) * TILE_ELEMS;
    uint16_t *bp = grow(need), *ap = in_place ? NULL : bp + nt * kt_n * TILE_ELEMS;
    if (!bp) return -1;
    long nblocks = (mt / 2) * (nt / 2);
#pragma omp parallel
    {
        pack_b(tb, n, k, b, nt, kt_n, bp);
        if (ap) pack_a(ta, m, k, a, mt, kt_n, ap);   /* both end in an implicit barrier */
        tiles_on();
        /* panel-major: consecutive blocks share the B panel (jt pair) */
#pragma omp for schedule(static)
        for (long blk = 0; blk < nblocks; blk++) {
            long jt = (blk / (mt / 2)) * 2, it = (blk % (mt / 2)) * 2;
            block_32x32(it, jt, kt_n, ap, a, (long)k * 2, bp, c, m, n);
        }
        tiles_off();
    }
    return 0;
}
