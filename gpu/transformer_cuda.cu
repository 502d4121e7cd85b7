/* transformer_cuda.cu: the GPT step's layers on the GPU and their launchers: cuBLAS GEMMs with
 * dt inputs and dt or fp32 output; embedding (token gradient by fp32 atomics, position gradient by
 * a gather over the batch); layer-norm forward/backward one warp per row; bias, GELU and residual
 * fused elementwise kernels, 8 elements per thread when rows allow 16-byte accesses; column sums
 * (bias and layer-norm parameter gradients) in two deterministic passes; row cross-entropy with an
 * online max/sum, in place; AdamW reading its step count and Σg² from device memory. */
#include "cuda_ops.h"
#include "eltwise_ref.h"
#include "cuda_state.h"
#include "xf_cuda.cuh"
#include <math.h>


static bool aligned16(const void *p) { return ((uintptr_t)p & 15) == 0; }
/* Rows of n elements allow 8-wide (16-byte) accesses when n % 8 == 0 and the buffers are aligned. */
template <class T> static bool vec8(int n, const void *a, const void *b = NULL, const void *c = NULL)
{
    return n % 8 == 0 && aligned16(a) && (!b || aligned16(b)) && (!c || aligned16(c));
}

static cudaDataType_t cuda_type(enum dtype dt)
{
    return dt == DT_BF16 ? CUDA_R_16BF : dt == DT_F16 ? CUDA_R_16F : CUDA_R_32F;
}

extern "C" int xf_gemm_cuda(enum dtype dt, enum dtype out, int ta, int tb, int m, int n, int k, const void *a, const void *b, void *c)
{
    static const float one = 1.0f, zero = 0.0f;
    if (dt == DT_TF32 || out == DT_TF32) { cuda_set_error("transformer GEMM: tf32 is not a storage type"); return -1; }
    /* Row-major C = op(A)·op(B) as column-major Cᵀ = op(B)ᵀ·op(A)ᵀ (see gemm_cuda.c). fp32 inputs
     * use CUBLAS_COMPUTE_32F without tf32: the fp32 step is fp32 arithmetic. */
    CUBLAS_CHECK(cublas_lib.GemmEx(cublas_handle, tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N, n, m, k, &one,
                                   b, cuda_type(dt), tb ? k : n, a, cuda_type(dt), ta ? m : k, &zero, c, cuda_type(out), n,
                                   CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    return 0;
}

/* ---- embedding ---- */

template <class T>
__global__ void embed_fwd_kernel(size_t total, int T_, int C, int V, const int32_t *__restrict__ tok, const float *__restrict__ wte,
                                 const float *__restrict__ wpe, T *__restrict__ y)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        size_t r = i / C;
        int j = (int)(i % C), tk = tok[r];
        float e = (unsigned)tk < (unsigned)V ? wte[(size_t)tk * C + j] : 0.f;
        y[i] = from_f32<T>(e + wpe[(r % T_) * C + j]);
    }
}

template <class T>
__global__ void embed_bwd_wte_kernel(size_t total, int C, int V, const int32_t *__restrict__ tok, const T *__restrict__ dy, float *dwte)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        int tk = tok[i / C];
        if ((unsigned)tk < (unsigned)V) atomicAdd(&dwte[(size_t)tk * C + i % C], to_f32(dy[i]));
    }
}

template <class T>
__global__ void embed_bwd_wpe_kernel(int B, int T_, int C, const T *__restrict__ dy, float *__restrict__ dwpe)
{
    size_t total = (size_t)T_ * C;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        float s = 0.f;
        for (int b = 0; b < B; b++) s += to_f32(dy[(size_t)b * total + i]);
        dwpe[i] = s;
    }
}

template <class T> static int embed_fwd(int B, int T_, int C, int V, const int32_t *tok, const float *wte, const float *wpe, void *y)
{
    size_t total = (size_t)B * T_ * C;
    if (!total) return 0;
    embed_fwd_kernel<T><<<grid_for(total), THREADS, 0, cuda_stream>>>(total, T_, C, V, tok, wte, wpe, (T *)y);
    CUDA_CHECK_LAUNCH();
    return 0;
}

template <class T> static int embed_bwd(int B, int T_, int C, int V, const int32_t *tok, const void *dy, float *dwte, float *dwpe)
{
    size_t total = (size_t)B * T_ * C;
    if (!total) return 0;
    embed_bwd_wte_kernel<T><<<grid_for(total), THREADS, 0, cuda_stream>>>(total, C, V, tok, (const T *)dy, dwte);
    CUDA_CHECK_LAUNCH();
    embed_bwd_wpe_kernel<T><<<grid_for((size_t)T_ * C), THREADS, 0, cuda_stream>>>(B, T_, C, (const T *)dy, dwpe);
    CUDA_CHECK_LAUNCH();
    return 0;
}

extern "C" int xf_embed_fwd_cuda(enum dtype dt, int B, int T_, int C, int V, const int32_t *tok, const float *wte, const float *wpe, void *y)
{ BY_DTYPE(dt, embed_fwd<T>(B, T_, C, V, tok, wte, wpe, y)) }
extern "C" int xf_embed_bwd_cuda(enum dtype dt, int B, int T_, int C, int V, const int32_t *tok, const void *dy, float *dwte, float *dwpe)
{ BY_DTYPE(dt, embed_bwd<T>(B, T_, C, V, tok, dy, dwte, dwpe)) }

/* ---- column sums: out[j] = Σ_r f(r, j), NOUT of them, in two passes of fixed order ---- */

#define CS_ROWS 128   /* rows per block in the first pass */
static float *cs_partial;   /* grow-only; first sized by an eager step, never inside a graph capture */
static size_t cs_cap;

template <int NOUT, class F>
__global__ void colsum_partial_kernel(int rows, int n, F f, float *__restrict__ partial)
{
    __shared__ float sm[NOUT][8][33];
    int j = blockIdx.x * 32 + threadIdx.x, r0 = blockIdx.y * CS_ROWS, r1 = min(rows, r0 + CS_ROWS);
    float acc[NOUT];
#pragma unroll
    for (int k = 0; k < NOUT; k++) acc[k] = 0.f;
    if (j < n)
        for (int r = r0 + threadIdx.y; r < r1; r += 8) f(r, j, acc);
#pragma unroll
    for (int k = 0; k < NOUT; k++) sm[k][threadIdx.y][threadIdx.x] = acc[k];
    __syncthreads();
    if (threadIdx.y == 0 && j < n)
#pragma unroll
        for (int k = 0; k < NOUT; k++) {
            float s = 0.f;
            for (int y = 0; y < 8; y++) s += sm[k][y][threadIdx.x];
            partial[((size_t)blockIdx.y * NOUT + k) * n + j] = s;
        }
}

__global__ void colsum_final_kernel(int nblk, int n, int nout, const float *__restrict__ partial, float *out0, float *out1)
{
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < nout * n; i += gridDim.x * blockDim.x) {
        int k = i / n, j = i % n;
        float s = 0.f;
        for (int y = 0; y < nblk; y++) s += partial[((size_t)y * nout + k) * n + j];
        (k == 0 ? out0 : out1)[j] = s;
    }
}

template <int NOUT, class F> static int colsum(int rows, int n, F f, float *out0, float *out1)
{
    if (n == 0) return 0;
    int nblk = rows > 0 ? (rows + CS_ROWS - 1) / CS_ROWS : 1;
    size_t need = (size_t)nblk * NOUT * n;
    if (need > cs_cap) {
        if (cs_partial) CUDA_CHECK(cudaFree(cs_partial));
        cs_partial = NULL;
        cs_cap = 0;
        CUDA_CHECK(cudaMalloc(&cs_partial, need * sizeof(float)));
        cs_cap = need;
    }
    dim3 grid((n + 31) / 32, nblk), block(32, 8);
    colsum_partial_kernel<NOUT><<<grid, block, 0, cuda_stream>>>(rows, n, f, cs_partial);
    CUDA_CHECK_LAUNCH();
    colsum_final_kernel<<<grid_for((size_t)NOUT * n), THREADS, 0, cuda_stream>>>(nblk, n, NOUT, cs_partial, out0, out1);
    CUDA_CHECK_LAUNCH();
    return 0;
}

template <class T> struct colsum_bias {
    const T *dy;
    int n;
    __device__ void operator()(int r, int j, float (&a)[1]) const { a[0] += to_f32(dy[(size_t)r * n + j]); }
};

template <class T> struct colsum_ln {   /* dgamma = Σ dy·x̂, dbeta = Σ dy */
    const T *x, *dy;
    const float *mean, *rstd;
    int n;
    __device__ void operator()(int r, int j, float (&a)[2]) const
    {
        size_t i = (size_t)r * n + j;
        float d = to_f32(dy[i]);
        a[0] += d * (to_f32(x[i]) - mean[r]) * rstd[r];
        a[1] += d;
    }
};

/* ---- layer-norm: one warp per row ---- */

template <class T>
__global__ void layernorm_fwd_kernel(int rows, int C, const T *__restrict__ x, const float *__restrict__ g, const float *__restrict__ b,
                                     T *__restrict__ y, float *__restrict__ mean, float *__restrict__ rstd)
{
    int row = (int)((blockIdx.x * (size_t)blockDim.x + threadIdx.x) >> 5), lane = threadIdx.x & 31;
    if (row >= rows) return;   /* whole warps leave together */
    const T *xr = x + (size_t)row * C;
    T *yr = y + (size_t)row * C;
    float s = 0.f, v = 0.f;
    for (int j = lane; j < C; j += 32) s += to_f32(xr[j]);
    float mu = warp_allsum(s) / C;
    for (int j = lane; j < C; j += 32) { float d = to_f32(xr[j]) - mu; v += d * d; }
    float rs = rsqrtf(warp_allsum(v) / C + GPT_LN_EPS);
    for (int j = lane; j < C; j += 32) yr[j] = from_f32<T>((to_f32(xr[j]) - mu) * rs * g[j] + b[j]);
    if (lane == 0) { mean[row] = mu; rstd[row] = rs; }
}

template <class T>
__global__ void layernorm_bwd_kernel(int rows, int C, const T *__restrict__ x, const float *__restrict__ g, const float *__restrict__ mean,
                                     const float *__restrict__ rstd, const T *__restrict__ dy, T *dx, int acc)
{
    int row = (int)((blockIdx.x * (size_t)blockDim.x + threadIdx.x) >> 5), lane = threadIdx.x & 31;
    if (row >= rows) return;
    const T *xr = x + (size_t)row * C, *dyr = dy + (size_t)row * C;
    T *dxr = dx + (size_t)row * C;
    float mu = mean[row], rs = rstd[row], m1 = 0.f, m2 = 0.f;
    for (int j = lane; j < C; j += 32) {
        float gd = to_f32(dyr[j]) * g[j];
        m1 += gd;
        m2 += gd * (to_f32(xr[j]) - mu) * rs;
    }
    m1 = warp_allsum(m1) / C;
    m2 = warp_allsum(m2) / C;
    for (int j = lane; j < C; j += 32) {
        float v = rs * (to_f32(dyr[j]) * g[j] - m1 - (to_f32(xr[j]) - mu) * rs * m2);
        dxr[j] = from_f32<T>(acc ? to_f32(dxr[j]) + v : v);
    }
}

static int warp_rows_grid(int rows) { return (int)(((size_t)rows * 32 + THREADS - 1) / THREADS); }

template <class T> static int layernorm_fwd(int rows, int C, const void *x, const float *g, const float *b, void *y, float *mean, float *rstd)
{
    if (rows == 0) return 0;
    layernorm_fwd_kernel<T><<<warp_rows_grid(rows), THREADS, 0, cuda_stream>>>(rows, C, (const T *)x, g, b, (T *)y, mean, rstd);
    CUDA_CHECK_LAUNCH();
    return 0;
}

template <class T>
static int layernorm_bwd(int rows, int C, const void *x, const float *g, const float *mean, const float *rstd, const void *dy,
                         void *dx, int acc, float *dg, float *db)
{
    if (rows == 0) return 0;
    layernorm_bwd_kernel<T><<<warp_rows_grid(rows), THREADS, 0, cuda_stream>>>(rows, C, (const T *)x, g, mean, rstd, (const T *)dy,
                                                                              (T *)dx, acc);
    CUDA_CHECK_LAUNCH();
    return colsum<2>(rows, C, colsum_ln<T>{(const T *)x, (const T *)dy, mean, rstd, C}, dg, db);
}

extern "C" int xf_layernorm_fwd_cuda(enum dtype dt, int rows, int C, const void *x, const float *g, const float *b, void *y,
                                     float *mean, float *rstd)
{ BY_DTYPE(dt, layernorm_fwd<T>(rows, C, x, g, b, y, mean, rstd)) }
extern "C" int xf_layernorm_bwd_cuda(enum dtype dt, int rows, int C, const void *x, const float *g, const float *mean,
                                     const float *rstd, const void *dy, void *dx, int acc, float *dg, float *db)
{ BY_DTYPE(dt, layernorm_bwd<T>(rows, C, x, g, mean, rstd, dy, dx, acc, dg, db)) }
extern "C" int xf_bias_grad_cuda(enum dtype dt, int rows, int n, const void *dy, float *db)
{ BY_DTYPE(dt, colsum<1>(rows, n, colsum_bias<T>{(const T *)dy, n}, db, db)) }

/* ---- fused elementwise ops over rows of n: 8 elements per thread where rows allow it ---- */

template <int V, class T> __device__ __forceinline__ void ldv(const T *p, float (&o)[8])
{
    if constexpr (V == 8) load8(p, o); else o[0] = to_f32(p[0]);
}
template <int V, class T> __device__ __forceinline__ void stv(T *p, const float (&o)[8])
{
    if constexpr (V == 8) store8(p, o); else p[0] = from_f32<T>(o[0]);
}

#define GELU_A ((float)GELU_K0)   /* kernels/eltwise_ref.h: the same constants everywhere */
#define GELU_B ((float)GELU_K1)
__device__ __forceinline__ float gelu_f(float x) { return 0.5f * x * (1.f + tanhf(GELU_A * (x + GELU_B * x * x * x))); }
__device__ __forceinline__ float gelu_grad_f(float x)
{
    float t = tanhf(GELU_A * (x + GELU_B * x * x * x));
    return 0.5f * (1.f + t) + 0.5f * x * (1.f - t * t) * GELU_A * (1.f + 3.f * GELU_B * x * x);
}

template <class T> struct bias_add_op {
    T *y;
    const float *bias;
    template <int V> __device__ void run(size_t base, int j) const
    {
        float v[8];
        ldv<V>(y + base, v);
#pragma unroll
        for (int e = 0; e < V; e++) v[e] += bias[j + e];
        stv<V>(y + base, v);
    }
};

template <class T> struct bias_gelu_op {   /* h += bias (rounded to T: the backward reads it); g = gelu(h) */
    T *h, *g;
    const float *bias;
    template <int V> __device__ void run(size_t base, int j) const
    {
        float v[8], o[8];
        ldv<V>(h + base, v);
#pragma unroll
        for (int e = 0; e < V; e++) {
            v[e] = to_f32(from_f32<T>(v[e] + bias[j + e]));
            o[e] = gelu_f(v[e]);
        }
        stv<V>(h + base, v);
        stv<V>(g + base, o);
    }
};

template <class T> struct bias_residual_op {
    const T *y, *res;
    T *out;
    const float *bias;
    template <int V> __device__ void run(size_t base, int j) const
    {
        float a[8], r[8];
        ldv<V>(y + base, a);
        ldv<V>(res + base, r);
#pragma unroll
        for (int e = 0; e < V; e++) a[e] = r[e] + a[e] + bias[j + e];
        stv<V>(out + base, a);
    }
};

template <class T> struct gelu_bwd_op {
    const T *h, *dg;
    T *dh;
    template <int V> __device__ void run(size_t base, int) const
    {
        float x[8], d[8];
        ldv<V>(h + base, x);
        ldv<V>(dg + base, d);
#pragma unroll
        for (int e = 0; e < V; e++) d[e] *= gelu_grad_f(x[e]);
        stv<V>(dh + base, d);
    }
};

template <int V, class Op> __global__ void rows_kernel(size_t groups, int n, Op op)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < groups; i += (size_t)gridDim.x * blockDim.x) {
        size_t base = i * V;
        op.template run<V>(base, (int)(base % n));
    }
}

template <class Op> static int rows_launch(size_t total, int n, bool vec, Op op)
{
    if (total == 0) return 0;
    if (vec) {
        rows_kernel<8><<<grid_for(total / 8), THREADS, 0, cuda_stream>>>(total / 8, n, op);
    } else {
        rows_kernel<1><<<grid_for(total), THREADS, 0, cuda_stream>>>(total, n, op);
    }
    CUDA_CHECK_LAUNCH();
    return 0;
}

template <class T> static int bias_add(int rows, int n, void *y, const float *bias)
{ return rows_launch((size_t)rows * n, n, vec8<T>(n, y), bias_add_op<T>{(T *)y, bias}); }
template <class T> static int bias_gelu(int rows, int n, void *h, const float *bias, void *g)
{ return rows_launch((size_t)rows * n, n, vec8<T>(n, h, g), bias_gelu_op<T>{(T *)h, (T *)g, bias}); }
template <class T> static int bias_residual(int rows, int n, const void *y, const float *bias, const void *res, void *out)
{ return rows_launch((size_t)rows * n, n, vec8<T>(n, y, res, out), bias_residual_op<T>{(const T *)y, (const T *)res, (T *)out, bias}); }
template <class T> static int gelu_bwd(size_t total, const void *h, const void *dg, void *dh)
{
    bool vec = total % 8 == 0 && vec8<T>(8, h, dg, dh);
    return rows_launch(total, 8, vec, gelu_bwd_op<T>{(const T *)h, (const T *)dg, (T *)dh});
}

extern "C" int xf_bias_add_cuda(enum dtype dt, int rows, int n, void *y, const float *bias) { BY_DTYPE(dt, bias_add<T>(rows, n, y, bias)) }
extern "C" int xf_bias_gelu_cuda(enum dtype dt, int rows, int n, void *h, const float *bias, void *g)
{ BY_DTYPE(dt, bias_gelu<T>(rows, n, h, bias, g)) }
extern "C" int xf_bias_residual_cuda(enum dtype dt, int rows, int n, const void *y, const float *bias, const void *res, void *out)
{ BY_DTYPE(dt, bias_residual<T>(rows, n, y, bias, res, out)) }
extern "C" int xf_gelu_bwd_cuda(enum dtype dt, size_t n, const void *h, const void *dg, void *dh) { BY_DTYPE(dt, gelu_bwd<T>(n, h, dg, dh)) }

/* ---- cross-entropy over the first V of Vp columns, in place: one block per row ---- */

__device__ __forceinline__ void lse_merge(float &m, float &s, float m2, float s2)
{
    float M = fmaxf(m, m2);
    s = (m == -INFINITY ? 0.f : s * __expf(m - M)) + (m2 == -INFINITY ? 0.f : s2 * __expf(m2 - M));
    m = M;
}

template <class T>
__global__ void xent_kernel(int V, int Vp, T *z, const int32_t *__restrict__ targets, float *__restrict__ losses, float inv_rows)
{
    __shared__ float wm[THREADS / 32], ws[THREADS / 32], bm, bs, zt;
    T *zr = z + (size_t)blockIdx.x * Vp;
    int tg = targets[blockIdx.x];
    float m = -INFINITY, s = 0.f;
    for (int j = threadIdx.x; j < V; j += blockDim.x) {   /* online max and sum of exp */
        float x = to_f32(zr[j]);
        if (x > m) { s = s * __expf(m - x) + 1.f; m = x; } else s += __expf(x - m);
    }
    for (int o = 16; o > 0; o >>= 1) lse_merge(m, s, __shfl_xor_sync(0xffffffffu, m, o), __shfl_xor_sync(0xffffffffu, s, o));
    if ((threadIdx.x & 31) == 0) { wm[threadIdx.x >> 5] = m; ws[threadIdx.x >> 5] = s; }
    if (threadIdx.x == 0) zt = (unsigned)tg < (unsigned)V ? to_f32(zr[tg]) : 0.f;   /* read before any write below */
    __syncthreads();
    if (threadIdx.x == 0) {
        float M = wm[0], S = ws[0];
        for (int w = 1; w < THREADS / 32; w++) lse_merge(M, S, wm[w], ws[w]);
        bm = M;
        bs = S;
    }
    __syncthreads();
    float M = bm, inv = 1.f / bs;
    for (int j = threadIdx.x; j < V; j += blockDim.x)
        zr[j] = from_f32<T>((__expf(to_f32(zr[j]) - M) * inv - (j == tg ? 1.f : 0.f)) * inv_rows);
    for (int j = V + threadIdx.x; j < Vp; j += blockDim.x) zr[j] = from_f32<T>(0.f);
    if (threadIdx.x == 0) losses[blockIdx.x] = logf(bs) + M - zt;
}

__global__ void mean_rows_kernel(int n, const float *__restrict__ v, float *__restrict__ out)
{
    __shared__ float part[32];
    float s = 0.f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) s += v[i];
    s = warp_allsum(s);
    if ((threadIdx.x & 31) == 0) part[threadIdx.x >> 5] = s;
    __syncthreads();
    if (threadIdx.x == 0) {
        float t = 0.f;
        for (int w = 0; w < (int)(blockDim.x >> 5); w++) t += part[w];
        out[0] = t / n;
    }
}

template <class T> static int xent(int rows, int V, int Vp, void *z, const int32_t *targets, float *losses, float *loss)
{
    if (rows == 0) return 0;
    xent_kernel<T><<<rows, THREADS, 0, cuda_stream>>>(V, Vp, (T *)z, targets, losses, 1.0f / rows);
    CUDA_CHECK_LAUNCH();
    mean_rows_kernel<<<1, 1024, 0, cuda_stream>>>(rows, losses, loss);
    CUDA_CHECK_LAUNCH();
    return 0;
}

extern "C" int xf_xent_cuda(enum dtype dt, int rows, int V, int Vp, void *z, const int32_t *targets, float *losses, float *loss)
{ BY_DTYPE(dt, xent<T>(rows, V, Vp, z, targets, losses, loss)) }

/* ---- AdamW: the step count and Σg² live on the device, so a captured step replays correctly ---- */

__global__ void adamw_count_kernel(float *state) { state[0] += 1.f; }

template <class T>
__global__ void adamw_kernel(size_t n, struct adamw_hp h, float *__restrict__ w, const float *__restrict__ g, float *__restrict__ m,
                             float *__restrict__ v, const float *__restrict__ state, T *__restrict__ w_lp)
{
    float step = state[0], scale = h.clip > 0 ? fminf(1.f, h.clip / (sqrtf(state[1]) + 1e-6f)) : 1.f;
    float lr_bc1 = h.lr / (1.f - powf(h.beta1, step)), rs_bc2 = rsqrtf(1.f - powf(h.beta2, step)), decay = 1.f - h.lr * h.weight_decay;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        float gi = g[i] * scale, mi = h.beta1 * m[i] + (1.f - h.beta1) * gi, vi = h.beta2 * v[i] + (1.f - h.beta2) * gi * gi;
        float wi = w[i] * decay - lr_bc1 * mi / (sqrtf(vi) * rs_bc2 + h.eps);
        m[i] = mi;
        v[i] = vi;
        w[i] = wi;
        if (w_lp) w_lp[i] = from_f32<T>(wi);
    }
}

template <class T> static int adamw(size_t n, const struct adamw_hp *h, float *w, const float *g, float *m, float *v, float *state, void *w_lp)
{
    adamw_count_kernel<<<1, 1, 0, cuda_stream>>>(state);
    CUDA_CHECK_LAUNCH();
    if (n == 0) return 0;
    adamw_kernel<T><<<grid_for(n), THREADS, 0, cuda_stream>>>(n, *h, w, g, m, v, state, (T *)w_lp);
    CUDA_CHECK_LAUNCH();
    return 0;
}

extern "C" int adamw_update_cuda(size_t n, const struct adamw_hp *h, float *w, const float *g, float *m, float *v, float *state,
                                 enum dtype dt, void *w_lp)
{
    if (dt == DT_F32 || !w_lp) return adamw<float>(n, h, w, g, m, v, state, NULL);
    BY_DTYPE(dt, adamw<T>(n, h, w, g, m, v, state, w_lp))
}

template <class T> __global__ void cast_kernel(size_t n, const float *__restrict__ x, T *__restrict__ y)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) y[i] = from_f32<T>(x[i]);
}

template <class T> static int cast(size_t n, const float *x, void *y)
{
    if (n == 0) return 0;
    cast_kernel<T><<<grid_for(n), THREADS, 0, cuda_stream>>>(n, x, (T *)y);
    CUDA_CHECK_LAUNCH();
    return 0;
}

extern "C" int xf_cast_cuda(enum dtype dt, size_t n, const float *x, void *y) { BY_DTYPE(dt, cast<T>(n, x, y)) }
