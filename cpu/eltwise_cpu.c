/* eltwise_cpu.c: bandwidth and elementwise ops on the CPU: OpenMP static schedules (the same
 * threads that first touched each page in upload), `omp simd` loops over restrict pointers;
 * outputs of ops whose arrays exceed the last-level cache written by streaming stores (STREAM's
 * ops, ReLU and bias-add directly, GELU and layer-norm through an L1 buffer; softmax not: see it). */
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

/* The STREAM ops, ReLU and bias-add write arrays far larger than the last-level cache: streaming
 * (non-temporal) stores skip the read-for-ownership of each destination line, a third of add's and
 * triad's traffic. Smaller outputs keep ordinary stores so they stay in cache. ReLU's backward:
 * y = a > 0 ? b : 0 (a the forward's input, b the gradient). Shift: y = a + s (a channel's bias). */
enum stream_op { ST_COPY, ST_SCALE, ST_ADD, ST_TRIAD, ST_RELU, ST_RELU_BWD, ST_SHIFT };

static inline float stream_elem(enum stream_op op, float s, float a, float b)
{
    switch (op) {
    case ST_COPY: return a;
    case ST_SCALE: return s * a;
    case ST_ADD: return a + b;
    case ST_TRIAD: return a + s * b;
    case ST_RELU: return a > 0 ? a : 0.0f;
    case ST_RELU_BWD: return a > 0 ? b : 0.0f;
    default: return a + s;   /* ST_SHIFT */
    }
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
#define VRELU(a) _mm512_max_ps(a, _mm512_setzero_ps())   /* a NaN gives 0, as a > 0 ? a : 0 does */
#define VRELU_BWD(a, b) _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(a, _mm512_setzero_ps(), _CMP_GT_OQ), b)
#else
#define VW 8
typedef __m256 vf;
#define VLOAD _mm256_loadu_ps
#define VSET1 _mm256_set1_ps
#define VADD _mm256_add_ps
#define VFMA(a, s, b) _mm256_fmadd_ps(s, b, a)
#define VMUL _mm256_mul_ps
#define VSTREAM _mm256_stream_ps
#define VRELU(a) _mm256_max_ps(a, _mm256_setzero_ps())
#define VRELU_BWD(a, b) _mm256_and_ps(_mm256_cmp_ps(a, _mm256_setzero_ps(), _CMP_GT_OQ), b)
#endif
/* y[lo, hi) = op(a, b) by streaming stores (ordinary ones up to y's first vector boundary and after
 * its last). The caller fences (STREAM_FENCE) before its threads meet: streamed stores are weakly
 * ordered. */
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
    case ST_RELU: for (; i + VW <= hi; i += VW) VSTREAM(y + i, VRELU(VLOAD(a + i))); break;
    case ST_RELU_BWD: for (; i + VW <= hi; i += VW) VSTREAM(y + i, VRELU_BWD(VLOAD(a + i), VLOAD(b + i))); break;
    case ST_SHIFT: for (; i + VW <= hi; i += VW) VSTREAM(y + i, VADD(VLOAD(a + i), vs)); break;
    }
    for (; i < hi; i++) y[i] = stream_elem(op, s, a[i], b[i]);
}
#define HAVE_STREAM_NT 1
#define STREAM_FENCE _mm_sfence
#else   /* never reached: stream_out() is 0 */
#define stream_nt(op, lo, hi, s, a, b, y) ((void)(op), (void)(lo), (void)(hi), (void)(s), (void)(a), (void)(b), (void)(y))
#define STREAM_FENCE() ((void)0)
#endif

/* An op's output is streamed when the op's arrays (inputs and output, n floats each) do not fit
 * the last-level cache together, so each line of it is evicted before anything reads it, and the
 * output is not also an input (in place, its lines are read anyway). eltwise_stream_above_cpu()
 * lowers the bound for the tests, which check the streamed paths on small arrays. */
static size_t stream_above;   /* bytes; 0: the last-level cache */
void eltwise_stream_above_cpu(size_t bytes) { stream_above = bytes; }
static inline int stream_out(size_t n, size_t arrays, const void *y, const void *x)
{
#ifdef HAVE_STREAM_NT
    return arrays * n * sizeof(float) > (stream_above ? stream_above : cpu_llc_bytes()) && y != x;
#else
    (void)n, (void)arrays, (void)y, (void)x;
    return 0;
#endif
}

/* The other ops' streamed outputs are produced in an L1 buffer by the op's own vectorised loop and
 * copied out (STREAM_STORE): STREAM_BLOCK elements at a time for the elementwise ops, up to
 * ROW_BUF of a row for the row ops. */
#define STREAM_BLOCK 1024
#define ROW_BUF 4096   /* 16 KiB */
#define STREAM_STORE(dst, src, n) stream_nt(ST_COPY, 0, (n), 0, (src), (src), (dst))
/* A row op over x into y, (rows, len) each, rows in parallel: for row r (xr, yr its rows in x and
 * y) the statements given run. nt: whether y is streamed (stream_out). */
#define FOR_ROWS(rows, len, x, y, ...)                                                       \
    do {                                                                                     \
        const long rows_ = (rows), len_ = (len);                                             \
        const int nt = stream_out((size_t)rows_ * len_, 2, (y), (x)),                        \
                  par_ = (size_t)rows_ * len_ >= SERIAL_BELOW;                               \
        _Pragma("omp parallel if (par_)")                                                    \
        {                                                                                    \
            _Pragma("omp for schedule(static) nowait")                                       \
            for (long r = 0; r < rows_; r++) {                                               \
                const float *xr = (x) + r * len_;                                            \
                float *yr = (y) + r * len_;                                                  \
                __VA_ARGS__                                                                  \
            }                                                                                \
            if (nt) STREAM_FENCE();                                                          \
        }                                                                                    \
    } while (0)
/* Inside FOR_ROWS: yr[0, len_) in pieces; the statements given set d[j] for j < m from the row's
 * elements j0 + j, d being yr + j0, or the caller's buf (ROW_BUF floats) when streaming, then
 * copied out. */
#define ROW_PIECES(...)                                                                      \
    for (long j0 = 0; j0 < len_; j0 += nt ? ROW_BUF : len_) {                                \
        long m = nt && len_ - j0 > ROW_BUF ? ROW_BUF : len_ - j0;                            \
        float *d = nt ? buf : yr + j0;                                                       \
        __VA_ARGS__                                                                          \
        if (nt) STREAM_STORE(yr + j0, buf, m);                                               \
    }

/* y[i] = EXPR for i < n, EXPR an expression in i; ARRAYS: how many n-float arrays the op touches.
 * A streamed y is written without its lines being read first: y = f(x) moves 8 bytes an element
 * instead of 12 (the read-for-ownership), as STREAM's ops below; a smaller y is stored ordinarily,
 * so the next op finds it in cache. */
#define MAP(n, arrays, y, ...)                                                                          \
    do {                                                                                                \
        if (stream_out((n), (arrays), (y), NULL)) {                                                     \
            _Pragma("omp parallel")                                                                     \
            {                                                                                           \
                float buf_[STREAM_BLOCK] __attribute__((aligned(64)));                                  \
                size_t nb_ = ((n) + STREAM_BLOCK - 1) / STREAM_BLOCK, t_ = (size_t)omp_get_thread_num(), \
                       nt_ = (size_t)omp_get_num_threads();                                             \
                for (size_t b_ = nb_ * t_ / nt_; b_ < nb_ * (t_ + 1) / nt_; b_++) {                     \
                    size_t lo_ = b_ * STREAM_BLOCK, hi_ = lo_ + STREAM_BLOCK < (n) ? lo_ + STREAM_BLOCK : (n); \
                    _Pragma("omp simd") for (size_t i = lo_; i < hi_; i++) buf_[i - lo_] = (__VA_ARGS__); \
                    STREAM_STORE((y) + lo_, buf_, hi_ - lo_);                                           \
                }                                                                                       \
                STREAM_FENCE();                                                                         \
            }                                                                                           \
        } else {                                                                                        \
            FOR_EACH((n), (y)[i] = (__VA_ARGS__));                                                      \
        }                                                                                               \
    } while (0)

static void stream_op_cpu(enum stream_op op, size_t n, float s, const float *restrict a,
                          const float *restrict b, float *restrict y)
{
#ifdef HAVE_STREAM_NT
    if (stream_out(n, 2, y, NULL)) { /* two arrays or more: DRAM-bound */
#pragma omp parallel
        {
            size_t t = (size_t)omp_get_thread_num(), nt = (size_t)omp_get_num_threads();
            stream_nt(op, n * t / nt, n * (t + 1) / nt, s, a, b, y);
            STREAM_FENCE();
        }
        return;
    }
#endif
    switch (op) { /* one loop per op: a switch inside the loop would not vectorise */
    case ST_COPY: FOR_EACH(n, y[i] = a[i]); break;
    case ST_SCALE: FOR_EACH(n, y[i] = s * a[i]); break;
    case ST_ADD: FOR_EACH(n, y[i] = a[i] + b[i]); break;
    case ST_TRIAD: FOR_EACH(n, y[i] = a[i] + s * b[i]); break;
    case ST_RELU: FOR_EACH(n, y[i] = a[i] > 0 ? a[i] : 0.0f); break;
    case ST_RELU_BWD: FOR_EACH(n, y[i] = a[i] > 0 ? b[i] : 0.0f); break;
    case ST_SHIFT: FOR_EACH(n, y[i] = a[i] + s); break;
    }
}

/* The ops with a dtype run fp32 here: cpu_unsupported() skips reduced-precision rows before a call. */
int copy_cpu(enum dtype dt, size_t n, const void *a, void *b)
{ if (dt != DT_F32) return -1; stream_op_cpu(ST_COPY, n, 0, a, a, b); return 0; }
int scale_cpu(enum dtype dt, size_t n, float s, const void *a, void *b)
{ if (dt != DT_F32) return -1; stream_op_cpu(ST_SCALE, n, s, a, a, b); return 0; }
int add_cpu(enum dtype dt, size_t n, const void *a, const void *b, void *c)
{ if (dt != DT_F32) return -1; stream_op_cpu(ST_ADD, n, 0, a, b, c); return 0; }
int triad_cpu(enum dtype dt, size_t n, float s, const void *b, const void *c, void *a)
{ if (dt != DT_F32) return -1; stream_op_cpu(ST_TRIAD, n, s, b, c, a); return 0; }

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

int relu_fwd_cpu(enum dtype dt, size_t n, const void *xv, void *yv)
{
    const float *restrict x = xv;
    float *restrict y = yv;
    if (dt != DT_F32) return -1;
    stream_op_cpu(ST_RELU, n, 0, x, x, y);
    return 0;
}

int relu_bwd_cpu(enum dtype dt, size_t n, const void *xv, const void *dyv, void *dxv)
{
    const float *restrict x = xv, *restrict dy = dyv;
    float *restrict dx = dxv;
    if (dt != DT_F32) return -1;
    stream_op_cpu(ST_RELU_BWD, n, 0, x, dy, dx);
    return 0;
}

int gelu_fwd_cpu(enum dtype dt, size_t n, const void *xv, void *yv)
{
    const float *restrict x = xv;
    float *restrict y = yv;
    if (dt != DT_F32) return -1;
    MAP(n, 2, y, gelu_cpu(x[i]));
    return 0;
}

int gelu_bwd_cpu(enum dtype dt, size_t n, const void *xv, const void *dyv, void *dxv)
{
    const float *restrict x = xv, *restrict dy = dyv;
    float *restrict dx = dxv;
    if (dt != DT_F32) return -1;
    MAP(n, 3, dx, dy[i] * gelu_grad_cpu(x[i]));
    return 0;
}

int bias_add_cpu(enum dtype dt, int outer, int ch, int inner, const void *xv, const float *bias, void *yv)
{
    const float *x = xv;
    float *y = yv;
    if (dt != DT_F32) return -1;
    /* x may be y (in place): no restrict here. inner == 1: (outer, ch) rows; else (outer·ch, inner).
     * A streamed row is STREAM's add of the bias row, or its shift by the channel's bias. */
    long rows = inner == 1 ? outer : (long)outer * ch, len = inner == 1 ? ch : inner;
    FOR_ROWS(rows, len, x, y, {
        if (nt) {
            if (inner == 1) stream_nt(ST_ADD, 0, (size_t)len, 0, xr, bias, yr);
            else stream_nt(ST_SHIFT, 0, (size_t)len, bias[r % ch], xr, xr, yr);
        } else if (inner == 1) {
            _Pragma("omp simd") for (long j = 0; j < len; j++) yr[j] = xr[j] + bias[j];
        } else {
            const float b = bias[r % ch];
            _Pragma("omp simd") for (long j = 0; j < len; j++) yr[j] = xr[j] + b;
        }
    });
    return 0;
}

int softmax_fwd_cpu(enum dtype dt, int rows, int cols, const void *xv, void *yv)
{
    const float *restrict x = xv;
    float *restrict y = yv;
    if (dt != DT_F32) return -1;
    /* Ordinary stores even for large outputs: the exp pass bounds this op, not y's traffic, and a
     * row produced in an L1 buffer and streamed out ran at 0.75-0.9x of this on the 2-vCPU Zen 3
     * (32768 x 1024, 2 threads, alternating runs; so did prefetching the next row during the exp
     * pass, in 256-element pieces or all at once: within the noise). */
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

int layernorm_fwd_cpu(enum dtype dt, int rows, int cols, const void *xv, const float *restrict gamma,
                      const float *restrict beta, float eps, void *yv)
{
    const float *restrict x = xv;
    float *restrict y = yv;
    if (dt != DT_F32) return -1;
    FOR_ROWS(rows, cols, x, y, {
        float mean = 0, var = 0;
        /* The next row's first 8 KiB asked for now: the passes below run from L1/L2, and the
         * hardware prefetcher alone left the memory idle meanwhile (with the request: 1.14x, 32768 x
         * 1024, 2 threads, 2-vCPU Zen 3; one row ahead measured as good as two or three). */
        if (r + 1 < rows_)
            for (long l = 0; l < len_ && l < 2048; l += 16) __builtin_prefetch(xr + len_ + l, 0, 3);
        /* Two passes over a row that stays in L1/L2: no cancellation from E[x²] - E[x]². */
        _Pragma("omp simd reduction(+ : mean)") for (int j = 0; j < cols; j++) mean += xr[j];
        mean /= (float)cols;
        _Pragma("omp simd reduction(+ : var)") for (int j = 0; j < cols; j++) var += (xr[j] - mean) * (xr[j] - mean);
        float rstd = 1.0f / sqrtf(var / (float)cols + eps), buf[ROW_BUF] __attribute__((aligned(64)));
        ROW_PIECES({
            const float *xs = xr + j0, *gs = gamma + j0, *bs = beta + j0;
            _Pragma("omp simd") for (long j = 0; j < m; j++) d[j] = (xs[j] - mean) * rstd * gs[j] + bs[j];
        })
    });
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

/* y = x converted between dtypes (fp32 <-> fp16/bf16, round to nearest even): the mixed-precision
 * training step's casts. tf32 is stored as fp32. */
int cast_cpu(size_t n, enum dtype from, const void *x, enum dtype to, void *y)
{
    int wide_from = dtype_size(from) == 4, wide_to = dtype_size(to) == 4;
    if (wide_from && wide_to) { FOR_EACH(n, ((float *)y)[i] = ((const float *)x)[i]); return 0; }
    if (wide_from) {
        const float *restrict xf = x;
        uint16_t *restrict yh = y;
        if (to == DT_F16) FOR_EACH(n, yh[i] = f32_to_f16(xf[i]));
        else FOR_EACH(n, yh[i] = f32_to_bf16(xf[i]));
        return 0;
    }
    if (!wide_to) { /* 16-bit to 16-bit: a copy, or through fp32 (exact) */
        const uint16_t *restrict xh = x;
        uint16_t *restrict yh = y;
        if (from == to) FOR_EACH(n, yh[i] = xh[i]);
        else if (to == DT_F16) FOR_EACH(n, yh[i] = f32_to_f16(bf16_to_f32(xh[i])));
        else FOR_EACH(n, yh[i] = f32_to_bf16(f16_to_f32(xh[i])));
        return 0;
    }
    const uint16_t *restrict xh = x;
    float *restrict yf = y;
    if (from == DT_F16) FOR_EACH(n, yf[i] = f16_to_f32(xh[i]));
    else FOR_EACH(n, yf[i] = bf16_to_f32(xh[i]));
    return 0;
}
