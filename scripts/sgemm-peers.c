/* sgemm-peers.c: dlbench's own sgemm kernel (cpu/gemm_own_cpu.c: AVX-512, else AVX2) against OpenBLAS
 * and, where given, MKL, call by call: the three alternate, so each pair of calls sees the same state of
 * a noisy machine, and the ratios quoted are medians of those pairs. Built and run by
 * scripts/sgemm-peers.sh; usage: sgemm-peers M N K [TA TB]; env REPS (21), MKL_RT (a libmkl_rt.so
 * to dlopen, e.g. from `pip install mkl`; MKL_THREADING_LAYER=GNU shares libgomp's threads), KC (the
 * own kernel's slice depth; default the set's), ISA (256 or 512: force AVX2 or AVX-512). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <cblas.h>
#include <dlfcn.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

int gemm_own_cpu(int kc_slice, int ta, int tb, int m, int n, int k, const float *a, const float *b, float *c);
const char *gemm_own_cpu_name(void);
extern int gemm_own_cpu_isa;
void *alloc_cpu(size_t bytes);
typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int);

static int cmp(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

/* Matrices allocated as dlbench's CPU buffers are (huge pages from 4 MiB). */
static float *alloc(size_t n) { return alloc_cpu(n * sizeof(float)); }

int main(int argc, char **argv)
{
    if (argc < 4) { fprintf(stderr, "usage: sgemm-peers M N K [TA TB]\n"); return 2; }
    int m = atoi(argv[1]), n = atoi(argv[2]), k = atoi(argv[3]), ta = argc > 4 && atoi(argv[4]), tb = argc > 5 && atoi(argv[5]);
    int reps = getenv("REPS") ? atoi(getenv("REPS")) : 21, kc = getenv("KC") ? atoi(getenv("KC")) : 0;
    gemm_own_cpu_isa = getenv("ISA") ? atoi(getenv("ISA")) : 0;
    if (m < 1 || n < 1 || k < 1 || reps < 1 || reps > 1000) { fprintf(stderr, "sgemm-peers: bad size or REPS\n"); return 2; }
    float *a = alloc((size_t)m * k), *b = alloc((size_t)k * n), *c = alloc((size_t)m * n), *r = alloc((size_t)m * n);
    double *t[3], *ratio[2];
    for (int w = 0; w < 3; w++) t[w] = calloc(reps, sizeof(double));
    for (int w = 0; w < 2; w++) ratio[w] = calloc(reps, sizeof(double));
    if (!a || !b || !c || !r) { fprintf(stderr, "sgemm-peers: out of memory\n"); return 2; }
    for (size_t i = 0; i < (size_t)m * k; i++) a[i] = (float)(i * 7919 % 1000) / 1000.f - 0.5f;
    for (size_t i = 0; i < (size_t)k * n; i++) b[i] = (float)(i * 104729 % 997) / 997.f - 0.5f;
    sgemm_fn mkl = NULL;
    const char *path = getenv("MKL_RT");
    if (path && *path) {
        void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        mkl = h ? (sgemm_fn)dlsym(h, "cblas_sgemm") : NULL;
        if (!mkl) { fprintf(stderr, "sgemm-peers: MKL_RT=%s: %s\n", path, dlerror()); return 2; }
    }
    int lda = ta ? m : k, ldb = tb ? k : n;
    enum CBLAS_TRANSPOSE oa = ta ? CblasTrans : CblasNoTrans, ob = tb ? CblasTrans : CblasNoTrans;
    for (int i = -2; i < reps; i++)   /* two warm rounds */
        for (int w = 0; w < 3; w++) {
            double t0 = omp_get_wtime();
            if (w == 0 && gemm_own_cpu(kc, ta, tb, m, n, k, a, b, c) != 0) { fprintf(stderr, "sgemm-peers: %s\n", gemm_own_cpu_name()); return 1; }
            if (w == 1) cblas_sgemm(CblasRowMajor, oa, ob, m, n, k, 1.f, a, lda, b, ldb, 0.f, r, n);
            if (w == 2 && mkl) mkl(CblasRowMajor, oa, ob, m, n, k, 1.f, a, lda, b, ldb, 0.f, r, n);
            if (i >= 0) t[w][i] = omp_get_wtime() - t0;
        }
    double err = 0;   /* own C against MKL's, else OpenBLAS's (MKL's was bit-equal at 2048³ here) */
    for (size_t i = 0; i < (size_t)m * n; i++) err = isfinite(c[i]) ? fmax(err, fabs((double)c[i] - r[i])) : INFINITY;
    for (int i = 0; i < reps; i++) ratio[0][i] = t[1][i] / t[0][i], ratio[1][i] = t[2][i] / t[0][i];
    for (int w = 0; w < 3; w++) qsort(t[w], reps, sizeof(double), cmp);
    for (int w = 0; w < 2; w++) qsort(ratio[w], reps, sizeof(double), cmp);
    double f = 2.0 * m * n * k * 1e-9;
    char kcs[24] = "";
    if (kc) snprintf(kcs, sizeof kcs, ", KC %d", kc);
    printf("sgemm %dx%dx%d ta=%d tb=%d, %d threads, median of %d: own (%s%s) %.1f GFLOP/s, OpenBLAS %.1f", m, n, k, ta, tb,
           omp_get_max_threads(), reps, gemm_own_cpu_name(), kcs, f / t[0][reps / 2], f / t[1][reps / 2]);
    if (mkl) printf(", MKL %.1f", f / t[2][reps / 2]);
    printf("; paired: own/OpenBLAS %.3fx", ratio[0][reps / 2]);
    if (mkl) printf(", own/MKL %.3fx", ratio[1][reps / 2]);
    printf(" (max |own - peer| %.2g)\n", err);
    return 0;
}
