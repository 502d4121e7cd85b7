/* gemm_cpu.c: GEMM on the CPU: fp32 through OpenBLAS's cblas_sgemm (OpenMP build) or dlbench's own
 * kernel (gemm_own_cpu.c: AVX-512 or AVX2), bf16 through our AMX kernel where the processor and OS
 * allow tiles, else our AVX512-BF16 kernel.
 * fp32 runs one of four ways, chosen per shape and thread count by timing each at the first call
 * and cached: OpenBLAS threading the call itself; from 4 threads, dlbench cutting C into one tile
 * per thread (a gm x gn grid, tiles as square as the shape allows), each thread calling OpenBLAS on
 * its own tile; gemm_own_cpu.c's kernel (CPUs with AVX-512F or AVX2 + FMA); from 4 threads, that
 * kernel on slices half as deep. Tiles repack their rows of A and columns of B (gn and gm times
 * over: for 2048³ on a 4 x 4 grid a tile packs 8 MB, ~0.4 ms at 40 GB/s from L3, against its 1.07 GFLOP,
 * ~11 ms at 100 GFLOP/s: ~4%) but never wait for each other, where OpenBLAS 0.3.21's threads share
 * packed panels and synchronise on them. Measured on the H200 host's 16 cores at 2048³: tiles
 * 15.0 ms, OpenBLAS's threads 14.2 ms (1245 GFLOP/s, MKL 1351); the gap to MKL there was
 * OpenBLAS's single-core kernel (132 against 157 GFLOP/s on one thread), which is what the own
 * kernel is for. */
#include "choose_cpu.h"
#include "cpu_ops.h"
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

int gemm_cpu_way = -1;   /* tests: -1 by measurement, else a way to force (enum way) where it can run */
enum way { OPENBLAS, TILES, OWN, OWN_SHALLOW, WAYS };
static const char *const way_name[WAYS] = {"OpenBLAS", "tiles", "own", "own 192-deep"};   /* in 160 chars of impl */
/* Two threads on one core share its L1, where each keeps an A panel (12 x KC floats: 18 KiB at the
 * kernel's 384), so from TIMED_FROM threads half as deep is timed too: a VM need not say which of
 * its vCPUs share a core (the H200 host's hwloc reports 16 cores and 16 PUs, yet its FMA loop gives
 * 87 GFLOP/s per thread at 16 threads against 157 from one thread's MKL sgemm). */
#define SHALLOW_KC 192
static struct { enum way way; int gm, gn, timed; struct way_choice times; } last;   /* the last fp32 call (its note) */

#define TILE_MIN 32         /* rows or columns of a tile below which OpenBLAS's own threading runs */
/* Threads from which tiles and shallow slices are timed: on 2 vCPUs tiles were level with
 * OpenBLAS's threads (the quick suite's 12 GEMM shapes within 0-19%, either way first), so below
 * this timing them buys nothing. */
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

/* Runs way w; returns the way that ran (OpenBLAS where the own kernel could not get its memory). */
static enum way run(enum way w, int ta, int tb, int m, int n, int k, const float *a, const float *b, float *c, int gm, int gn)
{
    if ((w == OWN || w == OWN_SHALLOW) && gemm_own_cpu(w == OWN ? 0 : SHALLOW_KC, ta, tb, m, n, k, a, b, c) == 0) return w;
    if (w == TILES) tiled(ta, tb, m, n, k, a, b, c, gm, gn);
    else sgemm(ta, tb, m, n, k, a, b, c, ta ? m : k, tb ? k : n, n);
    return w == TILES ? TILES : OPENBLAS;
}

/* One call's arguments, for choose_way_cpu's timing runs. */
struct call { int ta, tb, m, n, k, gm, gn; const float *a, *b; float *c; };
static int run_call(int w, void *p)
{
    const struct call *x = p;
    run((enum way)w, x->ta, x->tb, x->m, x->n, x->k, x->a, x->b, x->c, x->gm, x->gn);
    return 0;
}
static struct way_cache choices;   /* per shape, transposes and thread count */

const char *gemm_cpu_note(void)
{
    static char note[256];
    int len = last.way == OWN           ? snprintf(note, sizeof note, "dlbench %s", gemm_own_cpu_name())
              : last.way == OWN_SHALLOW ? snprintf(note, sizeof note, "dlbench %s, 192-deep", gemm_own_cpu_name())
                                        : snprintf(note, sizeof note, "OpenBLAS sgemm (%s)", openblas_get_corename());
    if (last.way == TILES) len += snprintf(note + len, sizeof note - len, ", a call per thread on %dx%d tiles of C", last.gm, last.gn);
    if (last.timed) choose_note_cpu(note, sizeof note, len, &last.times, way_name);   /* what each way took at the first calls */
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
    /* Inside a parallel region (t = 1) nothing is timed: callers on several threads would share the
     * choices; OpenBLAS runs there as before. */
    int inside = omp_in_parallel(), t = inside ? 1 : omp_get_max_threads(), gm = 1, gn = 1;
    int own = !inside && gemm_own_cpu_available();
    int can[WAYS] = {1, t > 1 && (gemm_cpu_way == TILES || t >= TIMED_FROM) && grid_for(t, m, n, &gm, &gn), own,
                     own && (gemm_cpu_way == OWN_SHALLOW || t >= TIMED_FROM)};
    const struct way_choice *h = NULL;
    enum way w = OPENBLAS;
    if (gemm_cpu_way >= 0) w = gemm_cpu_way < WAYS && can[gemm_cpu_way] ? gemm_cpu_way : OPENBLAS;
    else if (can[TILES] || can[OWN]) {
        struct call x = {ta, tb, m, n, k, gm, gn, a, b, c};
        int key[] = {ta, tb, m, n, k, t}, rc;
        w = (enum way)(h = choose_way_cpu(&choices, key, 6, WAYS, can, run_call, &x, &rc))->way;
    }
    last.way = run(w, ta, tb, m, n, k, a, b, c, gm, gn);
    last.gm = gm;
    last.gn = gn;
    last.timed = h != NULL;
    if (h) last.times = *h;
    return 0;
}
