/* gemm_ref.c: plain, single-threaded GEMM reference, and the result check accumulating in double.
 * The check's loops over rows and columns run in parallel (OpenMP): at 8192^3 it reads 768 MiB and
 * took seconds on one core; each row's and column's sum keeps its order, so the result does not
 * depend on the thread count. */
#include "gemm_ref.h"
#include "rng.h"
#include <math.h>
#include <stdlib.h>

static inline double opa(int ta, int m, int k, const float *a, long i, long p)
{ return ta ? a[p * m + i] : a[i * k + p]; }
static inline double opb(int tb, int n, int k, const float *b, long p, long j)
{ return tb ? b[j * k + p] : b[p * n + j]; }

double gemm_flops(int m, int n, int k) { return 2.0 * m * n * k; }

double gemm_bytes(int m, int n, int k, enum dtype dt)
{
    return ((double)m * k + (double)k * n) * (double)dtype_size(dt) + (double)m * n * 4.0;
}

void gemm_ref(int ta, int tb, int m, int n, int k, const float *a, const float *b, double *c)
{
    for (long i = 0; i < m; i++)
        for (long j = 0; j < n; j++) {
            double s = 0;
            for (long p = 0; p < k; p++) s += opa(ta, m, k, a, i, p) * opb(tb, n, k, b, p, j);
            c[i * n + j] = s;
        }
}

double gemm_tolerance(enum dtype dt, int k)
{
    double u_in = dt == DT_TF32 ? ldexp(1.0, -10) : 0.0; /* tf32 may truncate: 2u */
    return 4.0 * u_in + 8.0 * dtype_unit_roundoff(DT_F32) * sqrt((double)(k > 1 ? k : 1));
}

/* Freivalds: compare C·x with A·(B·x) for random x with |x_j| in [0.5, 1]: a single wrong
 * element (i,j) shifts (Cx)_i by at least half its error. O(MK + KN + MN) per vector. */
static double freivalds(int ta, int tb, int m, int n, int k, const float *a, const float *b,
                        const float *c, const double *arow, const double *bcol, struct rng *r)
{
    double *x = malloc(sizeof(double) * n), *y = calloc(k, sizeof(double));
    double worst = 0, bx2 = 0;
    for (long j = 0; j < n; j++) {
        x[j] = (0.5 + 0.5 * rng_uniform(r)) * (rng_next(r) & 1 ? 1 : -1);
        bx2 += bcol[j] * bcol[j] * x[j] * x[j];
    }
#pragma omp parallel for schedule(static)
    for (long p = 0; p < k; p++) {
        double s = 0;
        for (long j = 0; j < n; j++) s += opb(tb, n, k, b, p, j) * x[j];
        y[p] = s;
    }
    double bxn = sqrt(bx2);
#pragma omp parallel for schedule(static) reduction(max : worst)
    for (long i = 0; i < m; i++) {
        double cx = 0, abx = 0;
        for (long j = 0; j < n; j++) cx += (double)c[i * n + j] * x[j];
        for (long p = 0; p < k; p++) abx += opa(ta, m, k, a, i, p) * y[p];
        double e = fabs(cx - abx) / (arow[i] * bxn + 1e-300);
        if (!(e <= worst)) worst = e == e ? e : INFINITY; /* NaN propagates as the worst */
    }
    free(x);
    free(y);
    return worst;
}

double gemm_check(int ta, int tb, int m, int n, int k, const float *a, const float *b,
                  const float *c, uint64_t seed)
{
    long bad = 0, mn = (long)m * n;
#pragma omp parallel for schedule(static) reduction(+ : bad)
    for (long i = 0; i < mn; i++) bad += !isfinite(c[i]);
    if (bad) return INFINITY;
    double *arow = calloc(m, sizeof(double)), *bcol = calloc(n, sizeof(double));
#pragma omp parallel for schedule(static)
    for (long i = 0; i < m; i++) {
        double s = 0;
        for (long p = 0; p < k; p++) { double v = opa(ta, m, k, a, i, p); s += v * v; }
        arow[i] = sqrt(s);
    }
    /* bcol[j] = ‖column j of op(B)‖, in blocks of 64 columns so each thread reads B's rows in
     * 256-byte runs when tb = 0 */
    long nblk = (n + 63) / 64;
#pragma omp parallel for schedule(static)
    for (long jb = 0; jb < nblk; jb++) {
        long j1 = jb * 64 + 64 < n ? jb * 64 + 64 : n;
        for (long p = 0; p < k; p++)
            for (long j = jb * 64; j < j1; j++) { double v = opb(tb, n, k, b, p, j); bcol[j] += v * v; }
        for (long j = jb * 64; j < j1; j++) bcol[j] = sqrt(bcol[j]);
    }

    struct rng r;
    rng_seed(&r, seed, 0xf4e1);
    double worst = 0;
    for (int v = 0; v < 3; v++) {
        double e = freivalds(ta, tb, m, n, k, a, b, c, arow, bcol, &r);
        if (!(e <= worst)) worst = e;
    }
    /* Sampled elements recomputed exactly in double: the four corners, then random ones. */
    for (int s = 0; s < 68; s++) {
        long i = s < 4 ? (s & 1) * (m - 1) : (long)(rng_next(&r) % (uint64_t)m);
        long j = s < 4 ? (s >> 1) * (n - 1) : (long)(rng_next(&r) % (uint64_t)n);
        double ref = 0;
        for (long p = 0; p < k; p++) ref += opa(ta, m, k, a, i, p) * opb(tb, n, k, b, p, j);
        double e = fabs(c[i * n + j] - ref) / (arow[i] * bcol[j] + 1e-300);
        if (!(e <= worst)) worst = e;
    }
    free(arow);
    free(bcol);
    return worst;
}
