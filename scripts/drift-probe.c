/* drift-probe.c: one process's small multi-threaded SGEMM throughput and what might explain why it
 * differs from the next process's: where the OpenMP threads run, the cores' clock while timing,
 * time spent waiting for a CPU (run-queue delay, VM steal), buffer alignment and huge pages.
 * Built and run many times in fresh processes by scripts/drift-probe.sh; not part of dlbench.
 *   drift-probe [--m N] [--threads T] [--seconds S] [--offset BYTES] [--thp|--nothp]
 *               [--warm-pool MS] [--serial-init]
 * prints one line: key=value pairs (gflops is the median over 2 ms samples).
 *   drift-probe --timeline S [--threads T]
 * instead prints, every 20 ms for S seconds and for each thread at once, the rate of a 1-cycle
 * dependent add chain and of a 3-cycle dependent imul chain (G per s, ~4 ms each): a lower clock,
 * or the vCPU being descheduled, slows both alike; sharing the physical core with another busy
 * hyperthread slows the add chain (the core's front end is shared) but hardly the imul chain. */
#define _GNU_SOURCE
#include <cblas.h>
#include <immintrin.h>
#include <omp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Clock of the calling core in GHz: a chain of dependent integer adds retires one per cycle. */
static double core_ghz_n(long n)
{
    unsigned long x = 0;
    double t0 = now();
    for (long i = 0; i < n; i++) __asm__ volatile("add $1, %0" : "+r"(x));
    return n / (now() - t0) * 1e-9;
}
static double core_ghz(void) { return core_ghz_n(20000000); }

/* 3 cycles per dependent imul: G imul-cycles per second. */
static double imul_ghz_n(long n)
{
    unsigned long x = 3;
    double t0 = now();
    for (long i = 0; i < n; i++) __asm__ volatile("imul %0, %0" : "+r"(x));
    return 3.0 * n / (now() - t0) * 1e-9;
}

/* Each thread's add-chain and imul-chain rates in windows every 20 ms, for `seconds`. */
static int timeline(double seconds, int threads)
{
    int nw = (int)(seconds / 0.02);
    double *g = calloc((size_t)nw * threads * 2, sizeof *g), start = now();
#pragma omp parallel num_threads(threads)
    {
        int t = omp_get_thread_num();
        for (int w = 0; w < nw; w++) {
            while (now() - start < w * 0.02) {}
            g[((size_t)w * threads + t) * 2] = core_ghz_n(10000000);
            g[((size_t)w * threads + t) * 2 + 1] = imul_ghz_n(3000000);
            struct timespec ts = {0, 6000000};
            nanosleep(&ts, NULL);
        }
    }
    printf("# seconds, then per thread: add-chain G/s, imul-chain G cycles/s\n");
    for (int w = 0; w < nw; w++) {
        printf("%.2f", w * 0.02);
        for (int t = 0; t < threads; t++) printf(" %.2f %.2f", g[((size_t)w * threads + t) * 2], g[((size_t)w * threads + t) * 2 + 1]);
        putchar('\n');
    }
    free(g);
    return 0;
}

/* FMA throughput of the calling core, GFLOP/s: 10 independent AVX2 FMA chains for ~20 ms. */
__attribute__((target("avx2,fma"))) static double fma_gflops(void)
{
    __m256 acc[10], m = _mm256_set1_ps(0.999999f), a = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < 10; i++) acc[i] = _mm256_set1_ps((float)i);
    long iters = 0;
    double t0 = now(), t;
    do {
        for (int k = 0; k < 1000; k++)
            for (int i = 0; i < 10; i++) acc[i] = _mm256_fmadd_ps(acc[i], m, a);
        iters += 1000;
    } while ((t = now() - t0) < 0.02);
    float sink = 0, v[8];
    for (int i = 0; i < 10; i++) { _mm256_storeu_ps(v, acc[i]); sink += v[0]; }
    if (sink == 12345.f) puts("");
    return iters * 10 * 16 / t * 1e-9;
}

/* ns this thread waited on a run queue (/proc/thread-self/schedstat field 2). */
static double run_delay_ms(void)
{
    unsigned long long run, wait;
    FILE *f = fopen("/proc/thread-self/schedstat", "r");
    if (!f || fscanf(f, "%llu %llu", &run, &wait) != 2) { if (f) fclose(f); return -1; }
    fclose(f);
    return wait * 1e-6;
}

static double steal_ms(void)   /* machine-wide steal time, all CPUs (USER_HZ ticks) */
{
    unsigned long long v[8] = {0};
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return -1;
    int k = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
    fclose(f);
    return k == 8 ? v[7] * 10.0 : -1;
}

static float *buffer(size_t n, size_t offset, int thp)
{
    size_t bytes = n * sizeof(float) + offset + (2u << 20);
    char *p = NULL;
    if (posix_memalign((void **)&p, 2u << 20, bytes)) exit(1);
    if (thp > 0) madvise(p, bytes, MADV_HUGEPAGE);
    if (thp < 0) madvise(p, bytes, MADV_NOHUGEPAGE);
    return (float *)(p + offset);
}

/* Whether the page holding p is backed by a huge page: AnonHugePages of its smaps entry. */
static long huge_kb(const void *p)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    unsigned long lo, hi, a = (unsigned long)p;
    long kb = -1, in = 0;
    while (f && fgets(line, sizeof line, f)) {
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) in = a >= lo && a < hi;
        else if (in && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1) break;
    }
    if (f) fclose(f);
    return kb;
}

int main(int argc, char **argv)
{
    int m = 128, threads = 2, thp = 0, serial_init = 0;
    double seconds = 0.5, warm_ms = 0, timeline_s = 0;
    size_t offset = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--m")) m = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seconds")) seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--offset")) offset = strtoul(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--warm-pool")) warm_ms = atof(argv[++i]);
        else if (!strcmp(argv[i], "--thp")) thp = 1;
        else if (!strcmp(argv[i], "--nothp")) thp = -1;
        else if (!strcmp(argv[i], "--serial-init")) serial_init = 1;
        else if (!strcmp(argv[i], "--timeline")) timeline_s = atof(argv[++i]);
        else { fprintf(stderr, "drift-probe: unknown option %s\n", argv[i]); return 2; }
    }
    if (timeline_s > 0) return timeline(timeline_s, threads);
    openblas_set_num_threads(threads);
    omp_set_num_threads(threads);
    size_t n = (size_t)m * m;
    float *a = buffer(n, offset, thp), *b = buffer(n, offset, thp), *c = buffer(n, offset, thp);
    if (serial_init) {
        for (size_t i = 0; i < n; i++) { a[i] = (float)(i % 7) * 0.1f; b[i] = (float)(i % 5) * 0.1f; c[i] = 0; }
    } else {
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; i++) { a[i] = (float)(i % 7) * 0.1f; b[i] = (float)(i % 5) * 0.1f; c[i] = 0; }
    }
    if (warm_ms > 0) { /* keep every pool thread busy for a while before the first call */
        double end = now() + warm_ms * 1e-3;
#pragma omp parallel
        while (now() < end) {}
    }
    int cpus[64] = {0};
    double ghz[64] = {0};
#pragma omp parallel
    {
        int t = omp_get_thread_num();
        cpus[t] = sched_getcpu();
        ghz[t] = core_ghz();
    }
    /* Do the threads' cores compute independently? One core's FMA rate alone, then both at once:
     * a ratio near 1 means two real cores, near 0.5 two hyperthreads (or time-sliced vCPUs). */
    double alone = fma_gflops(), both[64] = {0}, sum_both = 0;
#pragma omp parallel
    both[omp_get_thread_num()] = fma_gflops();
    for (int t = 0; t < threads; t++) sum_both += both[t];
    double flop = 2.0 * m * m * m, t1 = 1e9, w0 = now();
    while (now() - w0 < 0.05) {   /* warm-up, as dlbench: >= 50 ms; fastest call sets reps */
        double s = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, m, m, 1, a, m, b, m, 0, c, m);
        s = now() - s;
        if (s < t1) t1 = s;
    }
    int reps = t1 < 2e-3 ? (int)(2e-3 / t1) + 1 : 1, ns = 0;
    static double samp[100000];
    struct rusage r0, r1;
    getrusage(RUSAGE_SELF, &r0);
    double d0 = run_delay_ms(), st0 = steal_ms(), start = now();
    while (now() - start < seconds && ns < 100000) {
        double s = now();
        for (int i = 0; i < reps; i++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, m, m, 1, a, m, b, m, 0, c, m);
        samp[ns++] = (now() - s) / reps;
    }
    double d1 = run_delay_ms(), st1 = steal_ms();
    getrusage(RUSAGE_SELF, &r1);
    int cpus_after[64] = {0};
#pragma omp parallel
    cpus_after[omp_get_thread_num()] = sched_getcpu();
    qsort(samp, ns, sizeof *samp, cmp);
    printf("gflops=%.1f p10=%.1f p90=%.1f samples=%d reps=%d cpus=", flop / samp[ns / 2] * 1e-9,
           flop / samp[ns * 9 / 10] * 1e-9, flop / samp[ns / 10] * 1e-9, ns, reps);
    for (int t = 0; t < threads; t++) printf("%s%d>%d", t ? "," : "", cpus[t], cpus_after[t]);
    printf(" ghz=");
    for (int t = 0; t < threads; t++) printf("%s%.2f", t ? "," : "", ghz[t]);
    printf(" fma1=%.0f fma_pair_ratio=%.2f", alone, sum_both / (threads * alone));
    printf(" main_run_delay_ms=%.1f steal_ms=%.0f nivcsw=%ld nvcsw=%ld a_mod4k=%lu a_mod2m=%lu a_huge_kb=%ld\n", d1 - d0,
           st1 - st0, r1.ru_nivcsw - r0.ru_nivcsw, r1.ru_nvcsw - r0.ru_nvcsw, (unsigned long)a % 4096,
           (unsigned long)a % (2u << 20), huge_kb(a));
    return 0;
}
