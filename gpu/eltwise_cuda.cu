/* eltwise_cuda.cu: bandwidth and elementwise kernels and their launchers. Arrays in fp32, fp16 or
 * bf16 storage with fp32 arithmetic. Elementwise maps: 16-byte accesses (float4, or 8 halves), two
 * independent 16-byte loads per input per thread in flight, a grid-stride loop over one resident
 * wave of blocks; a scalar pass covers an unaligned head and the tail. Row ops (softmax,
 * layer-norm): one warp per row for rows up to 1024, the row held in registers, so x is read once
 * and y written once, with shuffle reductions; longer rows: one block per row. Bias-add: the
 * kernels in bias_add_kernels.cuh (16-byte vectors where rows allow them), its launcher here. */
#include "cuda_check.h"
#include "cuda_launch.cuh"
#include "cuda_ops.h"
#include "cuda_state.h"
#include "dtype_cuda.cuh"
#include "eltwise_ref.h"   /* GELU_K0, GELU_K1 */
#include "bias_add_kernels.cuh"
#include <math.h>
#include <stdint.h>

#define RESIDENT_BLOCKS_PER_SM (2048 / THREADS)   /* full occupancy of a 2048-thread SM */
#define WARP_ROW_MAX 1024                         /* longest row held in one warp's registers */

/* One wave of resident blocks (fewer when the work is small): the maps' grid-stride loops keep
 * every thread busy for the whole array instead of queueing blocks. */
static int grid_resident(size_t work)
{
    size_t blocks = (work + THREADS - 1) / THREADS, cap = (size_t)cuda_sm_count * RESIDENT_BLOCKS_PER_SM;
    return blocks < 1 ? 1 : blocks > cap ? (int)cap : (int)blocks;
}

/* ---- elementwise maps: out[i] = f(a[i], b[i]) ---- */

struct copy_f { __device__ float operator()(float a, float) const { return a; } };
struct scale_f { float s; __device__ float operator()(float a, float) const { return s * a; } };
struct add_f { __device__ float operator()(float a, float b) const { return a + b; } };
struct triad_f { float s; __device__ float operator()(float b, float c) const { return b + s * c; } };
struct relu_f { __device__ float operator()(float x, float) const { return x > 0.f ? x : 0.f; } };
struct relu_bwd_f { __device__ float operator()(float x, float dy) const { return x > 0.f ? dy : 0.f; } };
struct gelu_f {
    __device__ float operator()(float x, float) const
    { return 0.5f * x * (1.f + tanhf((float)GELU_K0 * (x + (float)GELU_K1 * x * x * x))); }
};
struct gelu_bwd_f {
    __device__ float operator()(float x, float dy) const
    {
        float t = tanhf((float)GELU_K0 * (x + (float)GELU_K1 * x * x * x));
        return dy * (0.5f * (1.f + t) + 0.5f * x * (1.f - t * t) * (float)GELU_K0 * (1.f + (float)(3 * GELU_K1) * x * x));
    }
};
struct sgd_f { float lr; __device__ float operator()(float w, float g) const { return w - lr * g; } };

/* 16 bytes of T as E = 16 / sizeof(T) elements, mapped in fp32. */
template <class T, class F>
__device__ __forceinline__ uint4 map16(uint4 a, uint4 b, F f)
{
    constexpr int E = 16 / sizeof(T);
    uint4 o;
    const T *pa = reinterpret_cast<const T *>(&a), *pb = reinterpret_cast<const T *>(&b);
    T *po = reinterpret_cast<T *>(&o);
#pragma unroll
    for (int e = 0; e < E; e++) po[e] = from_f32<T>(f(to_f32(pa[e]), to_f32(pb[e])));
    return o;
}

/* nv 16-byte vectors; two per thread per trip, all loads issued before the first store, so two
 * 16-byte loads per input are in flight. b is read only when two_in (else it is a). No
 * __restrict__: out may alias a (in-place SGD), and the source order already puts loads first. */
template <class T, bool two_in, class F>
__global__ void map16_kernel(size_t nv, const uint4 *a, const uint4 *b, uint4 *out, F f)
{
    size_t stride = (size_t)gridDim.x * blockDim.x, i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    for (; i + stride < nv; i += 2 * stride) {
        uint4 a0 = a[i], a1 = a[i + stride], b0 = a0, b1 = a1;
        if (two_in) { b0 = b[i]; b1 = b[i + stride]; }
        out[i] = map16<T>(a0, b0, f);
        out[i + stride] = map16<T>(a1, b1, f);
    }
    if (i < nv) {
        uint4 a0 = a[i], b0 = two_in ? b[i] : a0;
        out[i] = map16<T>(a0, b0, f);
    }
}

/* The elements outside the vector part: [0, head) and [tail_at, tail_at + tail). */
template <class T, bool two_in, class F>
__global__ void map_edges_kernel(size_t head, size_t tail_at, size_t tail, const T *a, const T *b, T *out, F f)
{
    size_t total = head + tail, stride = (size_t)gridDim.x * blockDim.x;
    for (size_t k = blockIdx.x * (size_t)blockDim.x + threadIdx.x; k < total; k += stride) {
        size_t i = k < head ? k : tail_at + (k - head);
        float av = to_f32(a[i]);
        out[i] = from_f32<T>(f(av, two_in ? to_f32(b[i]) : av));
    }
}

/* Vector part where every array has the same offset within 16 bytes, scalar edges around it. */
template <class T, bool two_in, class F>
static int map_t(size_t n, const T *a, const T *b, T *out, F f)
{
    if (n == 0) return 0;
    constexpr size_t E = 16 / sizeof(T);
    uintptr_t mis = (uintptr_t)out & 15;
    size_t head = n, nv = 0;
    if (((uintptr_t)a & 15) == mis && (!two_in || ((uintptr_t)b & 15) == mis) && mis % sizeof(T) == 0) {
        head = ((16 - mis) & 15) / sizeof(T);
        if (head > n) head = n;
        nv = (n - head) / E;
    }
    if (nv) {
        map16_kernel<T, two_in><<<grid_resident(nv), THREADS, 0, cuda_stream>>>(nv, (const uint4 *)(a + head),
                                                                          (const uint4 *)(two_in ? b + head : a + head),
                                                                          (uint4 *)(out + head), f);
        CUDA_CHECK_LAUNCH();
    }
    size_t tail_at = head + nv * E, tail = n - tail_at;
    if (head + tail) {
        map_edges_kernel<T, two_in><<<grid_resident(head + tail), THREADS, 0, cuda_stream>>>(head, tail_at, tail, a, b, out, f);
        CUDA_CHECK_LAUNCH();
    }
    return 0;
}

template <bool two_in, class F>
static int map(enum dtype dt, size_t n, const void *a, const void *b, void *out, F f)
{
    return with_dtype(dt, [&](auto tag) {
        using T = decltype(tag);
        return map_t<T, two_in>(n, (const T *)a, (const T *)b, (T *)out, f);
    });
}

extern "C" {
int copy_cuda(enum dtype dt, size_t n, const void *a, void *b) { return map<false>(dt, n, a, a, b, copy_f{}); }
int scale_cuda(enum dtype dt, size_t n, float s, const void *a, void *b) { return map<false>(dt, n, a, a, b, scale_f{s}); }
int add_cuda(enum dtype dt, size_t n, const void *a, const void *b, void *c) { return map<true>(dt, n, a, b, c, add_f{}); }
int triad_cuda(enum dtype dt, size_t n, float s, const void *b, const void *c, void *a) { return map<true>(dt, n, b, c, a, triad_f{s}); }
int relu_fwd_cuda(enum dtype dt, size_t n, const void *x, void *y) { return map<false>(dt, n, x, x, y, relu_f{}); }
int relu_bwd_cuda(enum dtype dt, size_t n, const void *x, const void *dy, void *dx) { return map<true>(dt, n, x, dy, dx, relu_bwd_f{}); }
int gelu_fwd_cuda(enum dtype dt, size_t n, const void *x, void *y) { return map<false>(dt, n, x, x, y, gelu_f{}); }
int gelu_bwd_cuda(enum dtype dt, size_t n, const void *x, const void *dy, void *dx) { return map<true>(dt, n, x, dy, dx, gelu_bwd_f{}); }
int sgd_update_cuda(size_t n, float lr, float *w, const float *g) { return map_t<float, true>(n, w, g, w, sgd_f{lr}); }
}

/* ---- cast: y = x converted between dtypes ---- */

template <class Ti, class To>
__global__ void cast_kernel(size_t n, const Ti *__restrict__ x, To *__restrict__ y)
{
    size_t stride = (size_t)gridDim.x * blockDim.x;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += stride) y[i] = from_f32<To>(to_f32(x[i]));
}

extern "C" int cast_cuda(size_t n, enum dtype from, const void *x, enum dtype to, void *y)
{
    if (n == 0) return 0;
    return with_dtype(from, [&](auto ti) {
        return with_dtype(to, [&](auto to_) {
            using Ti = decltype(ti);
            using To = decltype(to_);
            cast_kernel<Ti, To><<<grid_resident(n), THREADS, 0, cuda_stream>>>(n, (const Ti *)x, (To *)y);
            CUDA_CHECK_LAUNCH();
            return 0;
        });
    });
}

/* ---- dot (fp32): per-block partial sums, then one block adds them in a fixed order ---- */

__global__ void dot_partial_kernel(size_t n, const float *__restrict__ a, const float *__restrict__ b, float *partial)
{
    float s = 0.f;
    size_t stride = (size_t)gridDim.x * blockDim.x;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += stride) s = fmaf(a[i], b[i], s);
    s = block_sum(s);
    if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

__global__ void sum_kernel(int n, const float *partial, float *out)
{
    float s = 0.f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) s += partial[i];
    s = block_sum(s);
    if (threadIdx.x == 0) out[0] = s;
}

extern "C" int dot_cuda(size_t n, const float *a, const float *b, float *out)
{
    static float *partial; /* one per block of the largest grid; allocated on the first (untimed) call */
    int blocks = grid_resident(n);
    if (!partial) CUDA_CHECK(cudaMalloc(&partial, sizeof(float) * (size_t)cuda_sm_count * RESIDENT_BLOCKS_PER_SM));
    dot_partial_kernel<<<blocks, THREADS, 0, cuda_stream>>>(n, a, b, partial);
    CUDA_CHECK_LAUNCH();
    sum_kernel<<<1, 1024, 0, cuda_stream>>>(blocks, partial, out);
    CUDA_CHECK_LAUNCH();
    return 0;
}

/* ---- row ops: softmax and layer-norm over (rows, cols) ---- */

/* One warp per row, E = ceil(cols / 32) elements per lane in registers (lane l holds columns
 * l, l + 32, ...): one read of x, one write of y, reductions by shuffles. */
template <class T, int E>
__global__ void softmax_warp_kernel(int rows, int cols, const T *__restrict__ x, T *__restrict__ y)
{
    const int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5), lane = threadIdx.x & 31;
    if (row >= rows) return; /* the whole warp leaves together */
    const T *xr = x + (size_t)row * cols;
    T *yr = y + (size_t)row * cols;
    float v[E], mx = -INFINITY, s = 0.f;
#pragma unroll
    for (int e = 0; e < E; e++) {
        int j = e * 32 + lane;
        v[e] = j < cols ? to_f32(xr[j]) : -INFINITY;
        mx = fmaxf(mx, v[e]);
    }
    mx = warp_max_all(mx);
#pragma unroll
    for (int e = 0; e < E; e++) {
        v[e] = e * 32 + lane < cols ? expf(v[e] - mx) : 0.f;
        s += v[e];
    }
    float inv = 1.f / warp_sum_all(s);
#pragma unroll
    for (int e = 0; e < E; e++) {
        int j = e * 32 + lane;
        if (j < cols) yr[j] = from_f32<T>(v[e] * inv);
    }
}

template <class T, int E>
__global__ void layernorm_warp_kernel(int rows, int cols, const T *__restrict__ x, const float *__restrict__ gamma,
                                      const float *__restrict__ beta, float eps, T *__restrict__ y)
{
    const int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5), lane = threadIdx.x & 31;
    if (row >= rows) return;
    const T *xr = x + (size_t)row * cols;
    T *yr = y + (size_t)row * cols;
    float v[E], s = 0.f, q = 0.f;
#pragma unroll
    for (int e = 0; e < E; e++) {
        int j = e * 32 + lane;
        v[e] = j < cols ? to_f32(xr[j]) : 0.f;
        s += v[e];
    }
    const float mean = warp_sum_all(s) / cols;
#pragma unroll
    for (int e = 0; e < E; e++) {
        float d = v[e] - mean;
        q += e * 32 + lane < cols ? d * d : 0.f;   /* two passes over registers: no cancellation */
    }
    const float rstd = rsqrtf(warp_sum_all(q) / cols + eps);
#pragma unroll
    for (int e = 0; e < E; e++) {
        int j = e * 32 + lane;
        if (j < cols) yr[j] = from_f32<T>((v[e] - mean) * rstd * gamma[j] + beta[j]);
    }
}

/* Rows longer than WARP_ROW_MAX: one block per row, x read again per pass (exp recomputed rather
 * than stored at reduced precision). */
template <class T>
__global__ void softmax_block_kernel(int cols, const T *__restrict__ x, T *__restrict__ y)
{
    const T *xr = x + (size_t)blockIdx.x * cols;
    T *yr = y + (size_t)blockIdx.x * cols;
    float mx = -INFINITY, s = 0.f;
    for (int j = threadIdx.x; j < cols; j += blockDim.x) mx = fmaxf(mx, to_f32(xr[j]));
    mx = block_max_all(mx);
    for (int j = threadIdx.x; j < cols; j += blockDim.x) s += expf(to_f32(xr[j]) - mx);
    float inv = 1.f / block_sum_all(s);
    for (int j = threadIdx.x; j < cols; j += blockDim.x) yr[j] = from_f32<T>(expf(to_f32(xr[j]) - mx) * inv);
}

template <class T>
__global__ void layernorm_block_kernel(int cols, const T *__restrict__ x, const float *__restrict__ gamma,
                                       const float *__restrict__ beta, float eps, T *__restrict__ y)
{
    const T *xr = x + (size_t)blockIdx.x * cols;
    T *yr = y + (size_t)blockIdx.x * cols;
    float s = 0.f, q = 0.f;
    for (int j = threadIdx.x; j < cols; j += blockDim.x) s += to_f32(xr[j]);
    const float mean = block_sum_all(s) / cols;
    for (int j = threadIdx.x; j < cols; j += blockDim.x) { float d = to_f32(xr[j]) - mean; q += d * d; }
    const float rstd = rsqrtf(block_sum_all(q) / cols + eps);
    for (int j = threadIdx.x; j < cols; j += blockDim.x) yr[j] = from_f32<T>((to_f32(xr[j]) - mean) * rstd * gamma[j] + beta[j]);
}

/* Launches the warp kernel instantiated for the smallest E (a power of two) with 32·E >= cols. */
template <class T, template <class, int> class K, class... A>
static int launch_rows(int rows, int cols, A... args)
{
    const int warps = THREADS / 32, blocks = (rows + warps - 1) / warps;
    int e = (cols + 31) / 32;
    if (e <= 1) K<T, 1>::launch(blocks, rows, cols, args...);
    else if (e <= 2) K<T, 2>::launch(blocks, rows, cols, args...);
    else if (e <= 4) K<T, 4>::launch(blocks, rows, cols, args...);
    else if (e <= 8) K<T, 8>::launch(blocks, rows, cols, args...);
    else if (e <= 16) K<T, 16>::launch(blocks, rows, cols, args...);
    else K<T, 32>::launch(blocks, rows, cols, args...);
    CUDA_CHECK_LAUNCH();
    return 0;
}

template <class T, int E> struct softmax_warp {
    static void launch(int blocks, int rows, int cols, const T *x, T *y)
    { softmax_warp_kernel<T, E><<<blocks, THREADS, 0, cuda_stream>>>(rows, cols, x, y); }
};
template <class T, int E> struct layernorm_warp {
    static void launch(int blocks, int rows, int cols, const T *x, const float *g, const float *b, float eps, T *y)
    { layernorm_warp_kernel<T, E><<<blocks, THREADS, 0, cuda_stream>>>(rows, cols, x, g, b, eps, y); }
};

extern "C" int softmax_fwd_cuda(enum dtype dt, int rows, int cols, const void *x, void *y)
{
    if (rows <= 0 || cols <= 0) return 0;
    return with_dtype(dt, [&](auto tag) {
        using T = decltype(tag);
        if (cols <= WARP_ROW_MAX) return launch_rows<T, softmax_warp>(rows, cols, (const T *)x, (T *)y);
        softmax_block_kernel<T><<<rows, THREADS, 0, cuda_stream>>>(cols, (const T *)x, (T *)y);
        CUDA_CHECK_LAUNCH();
        return 0;
    });
}

extern "C" int layernorm_fwd_cuda(enum dtype dt, int rows, int cols, const void *x, const float *gamma, const float *beta,
                                  float eps, void *y)
{
    if (rows <= 0 || cols <= 0) return 0;
    return with_dtype(dt, [&](auto tag) {
        using T = decltype(tag);
        if (cols <= WARP_ROW_MAX) return launch_rows<T, layernorm_warp>(rows, cols, (const T *)x, gamma, beta, eps, (T *)y);
        layernorm_block_kernel<T><<<rows, THREADS, 0, cuda_stream>>>(cols, (const T *)x, gamma, beta, eps, (T *)y);
        CUDA_CHECK_LAUNCH();
        return 0;
    });
}

/* ---- bias-add: the kernels and the plan in bias_add_kernels.cuh ---- */

extern "C" int bias_add_cuda(enum dtype dt, int outer, int ch, int inner, const void *x, const float *bias, void *y)
{
    if (outer <= 0 || ch <= 0 || inner <= 0) return 0;
    return with_dtype(dt, [&](auto tag) {
        using T = decltype(tag);
        const bias_add_plan p = bias_add_plan_make(outer, ch, inner, sizeof(T), x, bias, y, cuda_sm_count);
        if (p.vec && p.bias16)
            bias_add16_kernel<T, true><<<p.blocks, p.threads, 0, cuda_stream>>>(p.rows, p.nv, ch, inner == 1, (const uint4 *)x, bias, (uint4 *)y);
        else if (p.vec)
            bias_add16_kernel<T, false><<<p.blocks, p.threads, 0, cuda_stream>>>(p.rows, p.nv, ch, inner == 1, (const uint4 *)x, bias, (uint4 *)y);
        else
            bias_add_kernel<T><<<p.blocks, p.threads, 0, cuda_stream>>>(p.rows, p.len, ch, inner == 1, (const T *)x, bias, (T *)y);
        CUDA_CHECK_LAUNCH();
        return 0;
    });
}

/* ---- Adam (fp32): the step for the bias correction from the host, or read on the device ---- */

struct adam_args { float lr, b1, b2, eps; int step; const int32_t *dstep; };

__device__ __forceinline__ void adam_corrections(const adam_args &h, float *bc1, float *bc2)
{
    float t = (float)(h.dstep ? *h.dstep : h.step);
    *bc1 = 1.f / (1.f - powf(h.b1, t));
    *bc2 = 1.f / (1.f - powf(h.b2, t));
}

__device__ __forceinline__ float adam_elem(const adam_args &h, float bc1, float bc2, float w, float g, float *m, float *v)
{
    float mi = h.b1 * *m + (1.f - h.b1) * g, vi = h.b2 * *v + (1.f - h.b2) * g * g;
    *m = mi;
    *v = vi;
    return w - h.lr * (mi * bc1) / (sqrtf(vi * bc2) + h.eps);
}

__global__ void adam4_kernel(size_t n4, adam_args h, float4 *__restrict__ w, const float4 *__restrict__ g,
                             float4 *__restrict__ m, float4 *__restrict__ v)
{
    float bc1, bc2;
    adam_corrections(h, &bc1, &bc2);
    size_t stride = (size_t)gridDim.x * blockDim.x;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n4; i += stride) {
        float4 wi = w[i], gi = g[i], mi = m[i], vi = v[i];
        wi.x = adam_elem(h, bc1, bc2, wi.x, gi.x, &mi.x, &vi.x);
        wi.y = adam_elem(h, bc1, bc2, wi.y, gi.y, &mi.y, &vi.y);
        wi.z = adam_elem(h, bc1, bc2, wi.z, gi.z, &mi.z, &vi.z);
        wi.w = adam_elem(h, bc1, bc2, wi.w, gi.w, &mi.w, &vi.w);
        w[i] = wi; m[i] = mi; v[i] = vi;
    }
}

__global__ void adam_kernel(size_t n, adam_args h, float *__restrict__ w, const float *__restrict__ g, float *__restrict__ m,
                            float *__restrict__ v)
{
    float bc1, bc2;
    adam_corrections(h, &bc1, &bc2);
    size_t stride = (size_t)gridDim.x * blockDim.x;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += stride)
        w[i] = adam_elem(h, bc1, bc2, w[i], g[i], &m[i], &v[i]);
}

static bool aligned16(const void *p) { return ((uintptr_t)p & 15) == 0; }

static int adam(size_t n, adam_args h, float *w, const float *g, float *m, float *v)
{
    if (n == 0) return 0;
    size_t done = 0;
    if (aligned16(w) && aligned16(g) && aligned16(m) && aligned16(v) && n >= 4) {
        size_t n4 = n / 4;
        adam4_kernel<<<grid_resident(n4), THREADS, 0, cuda_stream>>>(n4, h, (float4 *)w, (const float4 *)g, (float4 *)m, (float4 *)v);
        CUDA_CHECK_LAUNCH();
        done = n4 * 4;
    }
    if (done < n) {
        adam_kernel<<<grid_resident(n - done), THREADS, 0, cuda_stream>>>(n - done, h, w + done, g + done, m + done, v + done);
        CUDA_CHECK_LAUNCH();
    }
    return 0;
}

extern "C" {
int adam_update_cuda(size_t n, const struct adam_hp *p, float *w, const float *g, float *m, float *v)
{ return adam(n, adam_args{p->lr, p->beta1, p->beta2, p->eps, p->step, NULL}, w, g, m, v); }

int adam_update_dev_cuda(size_t n, const struct adam_hp *p, const int32_t *step, float *w, const float *g, float *m, float *v)
{ return adam(n, adam_args{p->lr, p->beta1, p->beta2, p->eps, 0, step}, w, g, m, v); }
}
