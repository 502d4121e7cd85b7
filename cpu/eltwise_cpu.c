/* eltwise_cpu.c: bandwidth and elementwise ops on the CPU: OpenMP static schedules (the same
 * threads that first touched each page in upload), `omp simd` loops over restrict pointers. */
#include "cpu_ops.h"
#include "cpu_topology.h"
#include "vecmath.h"
#include <math.h>
#include <omp.h>
#include <stdint.h>

/* Below this many elements a parallel region costs more than the work (~1-2 µs to fork): run
 * on one thread, so the size sweep shows the caches rather than OpenMP overhead. */
#define SERIAL_BELOW 32768
#define FOR_EACH(n, ...)                                                               \
    do {                                                                               \
        if ((n) < SERIAL_BELOW) {                                                      \
            _Pragma("omp simd") for (size_t i = 0; i < (n); i++) __VA_ARGS__;          \
        } else {                                                                       \
            _Pragma("omp parallel for simd schedule(static)") for (size_t i = 0; i < (n); i++) __VA_ARGS__; \
        }                                                                              \
    } while (0)

/* The STREAM ops write arrays far larger than the last-level cache: streaming (non-temporal)
 * stores skip the read-for-ownership of each destination line, a third of add's and triad's
 * traffic. Smaller outputs keep ordinary stores so they stay in cache. */
enum stream_op { ST_COPY, ST_SCALE, ST_ADD, ST_TRIAD };

static inline float stream_elem(enum stream_op op, float s, float a, float b)
{
    return op == ST_COPY ? a : op == ST_SCALE ? s * a : op == ST_ADD ? a + b : a + s * b;
}

#if defined(__AVX512F__) || defined(__AVX__)
#include <immintrin.h>
#if defined(__AVX512F__)
#define VW 16
typedef __m512 vf;
#define VLOAD _mm512_loadu_ps
#define VSET1 _mm512_set1_ps
#define VADD _mm512_add_ps
#define VFMA(a, s, b) _mm512_fmadd_ps(s, b, a)
#define VMUL _mm512_mul_ps
#define VSTREAM _mm512_stream_ps
#else
#define VW 8
typedef __m256 vf;
#define VLOAD _mm256_loadu_ps
#define VSET1 _mm256_set1_ps
#define VADD _mm256_add_ps
#define VFMA(a, s, b) _mm256_fmadd_ps(s, b, a)
#define VMUL _mm256_mul_ps
#define VSTREAM _mm256_stream_ps
#endif
static void stream_nt(enum stream_op op, size_t lo, size_t hi, float s, const float *a, const float *b, float *y)
{
    size_t i = lo;
    vf vs = VSET1(s);
    for (; i < hi && ((uintptr_t)(y + i) & (VW * 4 - 1)); i++) y[i] = stream_elem(op, s, a[i], b[i]);
    switch (op) {
    case ST_COPY: for (; i + VW <= hi; i += VW) VSTREAM(y + i, VLOAD(a + i)); break;
    case ST_SCALE: for (; i + VW <= hi; i += VW) VSTREAM(y + i, VMUL(vs, VLOAD(a + i))); break;
    case ST_ADD: for (; i + VW <= hi; i += VW) VSTREAM(y + i, VADD(VLOAD(a + i), VLOAD(b + i))); break;
    case ST_TRIAD: for (; i + VW <= hi; i += VW) VSTREAM(y + i, VFMA(VLOAD(a + i), vs, VLOAD(b + i))); break;
    }
    for (; i < hi; i++) y[i] = stream_elem(op, s, a[i], b[i]);
    _mm_sfence(); /* streaming stores are weakly ordered: publish them before the barrier */
}
#define HAVE_STREAM_NT 1
#endif

static void stream_op_cpu(enum stream_op op, size_t n, float s, const float *restrict a,
                          const float *restrict b, float *restrict y)
{
#ifdef HAVE_STREAM_NT
    if (2 * n * sizeof(float) > cpu_llc_bytes()) { /* two arrays or more: DRAM-bound */
#pragma omp parallel
        {
            size_t t = (size_t)omp_get_thread_num(), nt = (size_t)omp_get_num_threads();
            stream_nt(op, n * t / nt, n * (t + 1) / nt, s, a, b, y);
        }
        return;
    }
#endif
    switch (op) { /* one loop per op: a switch inside the loop would not vectorise */
    case ST_COPY: FOR_EACH(n, y[i] = a[i]); break;
    case ST_SCALE: FOR_EACH(n, y[i] = s * a[i]); break;
    case ST_ADD: FOR_EACH(n, y[i] = a[i] + b[i]); break;
    case ST_TRIAD: FOR_EACH(n, y[i] = a[i] + s * b[i]); break;
    }
}

int copy_cpu(size_t n, const float *a, float *b) { stream_op_cpu(ST_COPY, n, 0, a, a, b); return 0; }
int scale_cpu(size_t n, float s, const float *a, float *b) { stream_op_cpu(ST_SCALE, n, s, a, a, b); return 0; }
int add_cpu(size_t n, const float *a, const float *b, float *c) { stream_op_cpu(ST_ADD, n, 0, a, b, c); return 0; }
int triad_cpu(size_t n, float s, const float *b, const float *c, float *a) { stream_op_cpu(ST_TRIAD, n, s, b, c, a); return 0; }

int dot_cpu(size_t n, const float *restrict a, const float *restrict b, float *out)
{
    /* fp32 vector sums over blocks of 4096, added in double: vectorises (a float->double
     * reduction does not), and the error stays that of a 4096-term sum at any n. */
    const size_t blk = 4096;
    long nblk = (long)((n + blk - 1) / blk);
    double s = 0;
#pragma omp parallel for schedule(static) reduction(+ : s) if (n >= SERIAL_BELOW)
    for (long k = 0; k < nblk; k++) {
        size_t lo = (size_t)k * blk, hi = lo + blk < n ? lo + blk : n;
        float part = 0;
#pragma omp simd reduction(+ : part)
        for (size_t i = lo; i < hi; i++) part += a[i] * b[i];
        s += part;
    }
    *out = (float)s;
    return 0;
}

int relu_fwd_cpu(size_t n, const float *restrict x, float *restrict y)
{
    FOR_EACH(n, y[i] = x[i] > 0 ? x[i] : 0.0f);
    return 0;
}

int relu_bwd_cpu(size_t n, const float *restrict x, const float *restrict dy, float *restrict dx)
{
    FOR_EACH(n, dx[i] = x[i] > 0 ? dy[i] : 0.0f);
    return 0;
}

int gelu_fwd_cpu(size_t n, const float *restrict x, float *restrict y)
{
    FOR_EACH(n, {
        float v = x[i], u = (float)GELU_K0 * (v + (float)GELU_K1 * v * v * v);
        y[i] = 0.5f * v * (1.0f + vtanhf(u));
    });
    return 0;
}

int gelu_bwd_cpu(size_t n, const float *restrict x, const float *restrict dy, float *restrict dx)
{
    FOR_EACH(n, {
        float v = x[i], u = (float)GELU_K0 * (v + (float)GELU_K1 * v * v * v), t = vtanhf(u);
        float g = 0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * (float)GELU_K0 * (1.0f + (float)(3 * GELU_K1) * v * v);
        dx[i] = dy[i] * g;
    });
    return 0;
}

int bias_add_cpu(int outer, int ch, int inner, const float *x, const float *bias, float *y)
{
    /* x may be y (in place): no restrict here. inner == 1: (outer, ch) rows; else (outer·ch, inner). */
    long rows = inner == 1 ? outer : (long)outer * ch, len = inner == 1 ? ch : inner;
#pragma omp parallel for schedule(static) if ((size_t)rows * len >= SERIAL_BELOW)
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * len;
        float *yr = y + r * len;
        if (inner == 1) {
#pragma omp simd
            for (long j = 0; j < len; j++) yr[j] = xr[j] + bias[j];
        } else {
            const float b = bias[r % ch];
#pragma omp simd
            for (long j = 0; j < len; j++) yr[j] = xr[j] + b;
        }
    }
    return 0;
}

int softmax_fwd_cpu(int rows, int cols, const float *restrict x, float *restrict y)
{
#pragma omp parallel for schedule(static) if ((size_t)rows * cols >= SERIAL_BELOW)
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols, mx = -INFINITY, s = 0;
#pragma omp simd reduction(max : mx)
        for (int j = 0; j < cols; j++) mx = xr[j] > mx ? xr[j] : mx;
#pragma omp simd reduction(+ : s)
        for (int j = 0; j < cols; j++) { yr[j] = vexpf(xr[j] - mx); s += yr[j]; }
        float inv = 1.0f / s;
#pragma omp simd
        for (int j = 0; j < cols; j++) yr[j] *= inv;
    }
    return 0;
}

int layernorm_fwd_cpu(int rows, int cols, const float *restrict x, const float *restrict gamma,
                      const float *restrict beta, float eps, float *restrict y)
{
#pragma omp parallel for schedule(static) if ((size_t)rows * cols >= SERIAL_BELOW)
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols, mean = 0, var = 0;
        /* Two passes over a row that stays in L1/L2: no cancellation from E[x²] - E[x]². */
#pragma omp simd reduction(+ : mean)
        for (int j = 0; j < cols; j++) mean += xr[j];
        mean /= (float)cols;
#pragma omp simd reduction(+ : var)
        for (int j = 0; j < cols; j++) var += (xr[j] - mean) * (xr[j] - mean);
        float rstd = 1.0f / sqrtf(var / (float)cols + eps);
#pragma omp simd
        for (int j = 0; j < cols; j++) yr[j] = (xr[j] - mean) * rstd * gamma[j] + beta[j];
    }
    return 0;
}

int sgd_update_cpu(size_t n, float lr, float *restrict w, const float *restrict g)
{
    FOR_EACH(n, w[i] -= lr * g[i]);
    return 0;
}

int adam_update_cpu(size_t n, const struct adam_hp *h, float *restrict w, const float *restrict g,
                    float *restrict m, float *restrict v)
{
    const float b1 = h->beta1, b2 = h->beta2, eps = h->eps;
    const float bc1 = 1.0f / (1.0f - powf(b1, (float)h->step)), bc2 = 1.0f / (1.0f - powf(b2, (float)h->step));
    const float lr = h->lr;
    FOR_EACH(n, {
        float gi = g[i], mi = b1 * m[i] + (1.0f - b1) * gi, vi = b2 * v[i] + (1.0f - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] -= lr * (mi * bc1) / (sqrtf(vi * bc2) + eps);
    });
    return 0;
}
