/* gemm_cpu.c: GEMM on the CPU: fp32 through OpenBLAS's cblas_sgemm (OpenMP build), bf16 through our
 * AMX kernel where the processor and OS allow tiles, else our AVX512-BF16 kernel.
 * fp32 on several threads runs one of two ways, chosen per shape and thread count by timing both at
 * the first call and cached: OpenBLAS threading the call itself, or dlbench cutting C into one tile
 * per thread (a gm x gn grid, tiles as square as the shape allows) and each thread calling OpenBLAS
 * on its own tile (OpenBLAS runs one thread inside an OpenMP parallel region). Tiles repack their
 * rows of A and columns of B (gn and gm times over: for 2048³ on a 4 x 4 grid a tile packs 8 MB,
 * ~0.4 ms at 40 GB/s from L3, against its 1.07 GFLOP, ~11 ms at 100 GFLOP/s: ~4%) but never wait
 * for each other, where OpenBLAS 0.3.21's threads share packed panels and synchronise on them.
 * Measured on the H200 host's 16 cores at 2048³: tiles 15.0 ms, OpenBLAS's threads 14.2 ms (1245
 * GFLOP/s, MKL 1351), and OpenBLAS's threads also won at 4 and 8 threads; the gap to MKL there is
 * its single-core kernel (132 against 157 GFLOP/s on one thread), so tiles stay a measured option
 * for CPUs where the threading is what costs. */
#include "cpu_ops.h"
#include <cblas.h>
#include <omp.h>
#include <stdio.h>

int gemm_cpu_tiling = -1;   /* tests: -1 by measurement; 0 OpenBLAS's threads; 1 tiles when they fit */
/* Which way a shape runs at a thread count: measured once (after a warm call each, the best of three
 * alternating calls) and remembered with both times; 1 tiles, 0 OpenBLAS's threads. */
struct choice { int ta, tb, m, n, k, threads, tiled; double best[2]; };
static struct { int tiles, gm, gn, timed; double best[2]; } last;   /* the last fp32 call (its note) */

#define TILE_MIN 32         /* rows or columns of a tile below which OpenBLAS's own threading runs */
/* Threads from which the two ways are timed: on 2 vCPUs they were level (the quick suite's 12 GEMM
 * shapes within 0-19%, either way first), so below this the 8 timing calls would buy nothing. */
#define TIMED_FROM 4

static void sgemm(int ta, int tb, int m, int n, int k, const float *a, const float *b, float *c, int lda, int ldb, int ldc)
{
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, a, lda, b,
                ldb, 0.0f, c, ldc);
}

/* The gm x gn grid of t tiles whose tiles are closest to square; 0 when a tile would be thinner
 * than TILE_MIN either way. */
static int grid_for(int t, int m, int n, int *gm, int *gn)
{
    double best = 0;
    for (int d = 1; d <= t; d++) {
        if (t % d || m / d < TILE_MIN || n / (t / d) < TILE_MIN) continue;
        double h = (double)m / d, w = (double)n / (t / d), sq = h < w ? h / w : w / h;
        if (sq > best) { best = sq; *gm = d; *gn = t / d; }
    }
    return best > 0;
}

/* Packed row-major: lda is op(A)'s stored row length. Tile (i, j) of op(A)·op(B): rows [m0, m1) of
 * op(A) are columns m0.. of A when ta, rows m0.. else; columns [n0, n1) of op(B) likewise. */
static void tiled(int ta, int tb, int m, int n, int k, const float *a, const float *b, float *c, int gm, int gn)
{
#pragma omp parallel for schedule(static, 1)
    for (int t = 0; t < gm * gn; t++) {
        int i = t / gn, j = t % gn;
        int m0 = (int)((long)m * i / gm), m1 = (int)((long)m * (i + 1) / gm);
        int n0 = (int)((long)n * j / gn), n1 = (int)((long)n * (j + 1) / gn);
        sgemm(ta, tb, m1 - m0, n1 - n0, k, ta ? a + m0 : a + (long)m0 * k, tb ? b + (long)n0 * k : b + n0, c + (long)m0 * n + n0,
              ta ? m : k, tb ? k : n, n);
    }
}

static struct choice choices[64];
static int nchoices;

static const struct choice *choose(int ta, int tb, int m, int n, int k, const float *a, const float *b, float *c, int gm,
                                   int gn, int t)
{
    for (int i = 0; i < nchoices && i < 64; i++) {
        const struct choice *h = &choices[i];
        if (h->ta == ta && h->tb == tb && h->m == m && h->n == n && h->k == k && h->threads == t) return h;
    }
    double best[2] = {1e30, 1e30};
    for (int r = 0; r < 4; r++)
        for (int way = 0; way < 2; way++) {
            double t0 = omp_get_wtime();
            if (way) tiled(ta, tb, m, n, k, a, b, c, gm, gn);
            else sgemm(ta, tb, m, n, k, a, b, c, ta ? m : k, tb ? k : n, n);
            double dt = omp_get_wtime() - t0;
            if (r > 0 && dt < best[way]) best[way] = dt;
        }
    struct choice *h = &choices[nchoices++ % 64];
    *h = (struct choice){ta, tb, m, n, k, t, best[1] < best[0], {best[0], best[1]}};
    return h;
}

const char *gemm_cpu_note(void)
{
    static char note[160];
    int len = snprintf(note, sizeof note, "OpenBLAS sgemm (%s)", openblas_get_corename());
    if (last.tiles) len += snprintf(note + len, sizeof note - len, ", a call per thread on %dx%d tiles of C", last.gm, last.gn);
    if (last.timed)   /* both ways were timed: what the other took */
        snprintf(note + len, sizeof note - len, " (first calls: %.3g ms %s, %.3g ms %s)", 1e3 * last.best[last.tiles],
                 last.tiles ? "tiled" : "OpenBLAS-threaded", 1e3 * last.best[!last.tiles],
                 last.tiles ? "OpenBLAS-threaded" : "on tiles");
    return note;
}

int gemm_cpu(enum dtype dt, int ta, int tb, int m, int n, int k, const void *a, const void *b, float *c)
{
    if (dt == DT_BF16 && gemm_amx_cpu_available()) { /* AMX tiles where granted, else vdpbf16ps */
        cpu_last_impl = CPU_IMPL_AMX_KERNEL;
        return gemm_amx_cpu(ta, tb, m, n, k, a, b, c);
    }
    cpu_last_impl = dt == DT_BF16 ? CPU_IMPL_BF16_KERNEL : CPU_IMPL_SGEMM;
    if (dt == DT_BF16) return gemm_bf16_cpu(ta, tb, m, n, k, a, b, c);
    if (dt != DT_F32) return -1;
    int t = omp_in_parallel() ? 1 : omp_get_max_threads(), gm = 1, gn = 1;
    const struct choice *h = NULL;
    int tiles = t > 1 && gemm_cpu_tiling != 0 && (gemm_cpu_tiling == 1 || t >= TIMED_FROM) && grid_for(t, m, n, &gm, &gn);
    if (tiles && gemm_cpu_tiling < 0) tiles = (h = choose(ta, tb, m, n, k, a, b, c, gm, gn, t))->tiled;
    if (tiles) tiled(ta, tb, m, n, k, a, b, c, gm, gn);
    else sgemm(ta, tb, m, n, k, a, b, c, ta ? m : k, tb ? k : n, n);
    last.tiles = tiles;
    last.gm = gm;
    last.gn = gn;
    last.timed = h != NULL;
    if (h) { last.best[0] = h->best[0]; last.best[1] = h->best[1]; }
    return 0;
}
