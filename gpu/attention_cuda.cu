/* attention_cuda.cu: causal attention as a PyTorch user writes it without a fused kernel: per
 * sequence, cuBLAS strided-batched GEMMs over the heads (S = scale·Q·Kᵀ in fp32, O = P·V), a row
 * softmax with the causal mask in between (P in dt), the full T×T scores in device memory. The
 * backward recomputes S, then dV = Pᵀ·dO, dP = dO·Vᵀ, dS = P∘(dP − D)·scale, dQ = dS·K, dK = dSᵀ·Q.
 * Workspace: S/dP (fp32) and P/dS (dt), B·H·T² each, and D (B·H·T). */
#include "cuda_ops.h"
#include "cuda_state.h"
#include "xf_cuda.cuh"
#include <math.h>

static cudaDataType_t cuda_type(enum dtype dt) { return dt == DT_BF16 ? CUDA_R_16BF : dt == DT_F16 ? CUDA_R_16F : CUDA_R_32F; }


struct ws_layout { float *S, *D; void *P; size_t heads_tt; };

static struct ws_layout ws_of(enum dtype dt, const struct attn_shape *s, void *ws)
{
    struct ws_layout w;
    w.heads_tt = (size_t)s->B * s->H * s->T * s->T;
    w.S = (float *)ws;
    w.D = w.S + w.heads_tt;
    uintptr_t p = (uintptr_t)(w.D + (size_t)s->B * s->H * s->T);
    w.P = (void *)((p + 255) & ~(uintptr_t)255);   /* 256-byte aligned for cuBLAS's fast paths */
    (void)dt;
    return w;
}

extern "C" size_t attention_workspace_cuda(enum dtype dt, const struct attn_shape *s)
{
    size_t heads_tt = (size_t)s->B * s->H * s->T * s->T;
    return heads_tt * (4 + dtype_size(dt)) + (size_t)s->B * s->H * s->T * 4 + 256;
}

/* Row-major C (m×n, ldc, stride sc) = op(A)·op(B) for `batch` heads; see gemm_cuda.c for the
 * column-major mapping. */
static int gemm_heads(int ta, int tb, int m, int n, int k, float alpha, const void *a, cudaDataType_t at, long lda, long long sa,
                      const void *b, cudaDataType_t bt, long ldb, long long sb, void *c, cudaDataType_t ct, long ldc, long long sc, int batch)
{
    const float zero = 0.0f;
    CUBLAS_CHECK(cublas_lib.GemmStridedBatchedEx(cublas_handle, tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N, n, m, k,
                                                 &alpha, b, bt, (int)ldb, sb, a, at, (int)lda, sa, &zero, c, ct, (int)ldc, sc, batch,
                                                 CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    return 0;
}

/* One block per score row (b, h, t): P = softmax over keys <= t (zeros after), lse of the row. */
template <class T>
__global__ void softmax_causal_kernel(int T_, const float *__restrict__ S, T *__restrict__ P, float *__restrict__ lse)
{
    __shared__ float bc;
    size_t row = blockIdx.x;
    int t = (int)(row % T_);
    const float *sr = S + row * T_;
    T *pr = P + row * T_;
    float mx = -INFINITY, sum = 0.f;
    for (int j = threadIdx.x; j <= t; j += blockDim.x) mx = fmaxf(mx, sr[j]);
    mx = block_max(mx);
    if (threadIdx.x == 0) bc = mx;
    __syncthreads();
    mx = bc;
    for (int j = threadIdx.x; j <= t; j += blockDim.x) sum += __expf(sr[j] - mx);
    sum = block_sum(sum);   /* its closing barrier: every thread has read bc */
    if (threadIdx.x == 0) bc = sum;
    __syncthreads();
    float inv = 1.f / bc;
    for (int j = threadIdx.x; j < T_; j += blockDim.x) pr[j] = from_f32<T>(j <= t ? __expf(sr[j] - mx) * inv : 0.f);
    if (threadIdx.x == 0) lse[row] = mx + logf(bc);
}

/* Elementwise over every score: P = exp(S − lse) below the diagonal, 0 above. */
template <class T>
__global__ void probs_kernel(size_t total, int T_, const float *__restrict__ S, const float *__restrict__ lse, T *__restrict__ P)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        size_t row = i / T_;
        int j = (int)(i % T_), t = (int)(row % T_);
        P[i] = from_f32<T>(j <= t ? __expf(S[i] - lse[row]) : 0.f);
    }
}

/* dS = P∘(dP − D[row])·scale, written over P. */
template <class T>
__global__ void dscores_kernel(size_t total, int T_, float scale, const float *__restrict__ dP, const float *__restrict__ D, T *P)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        size_t row = i / T_;
        P[i] = from_f32<T>(to_f32(P[i]) * (dP[i] - D[row]) * scale);
    }
}

template <class T>
static int fwd(enum dtype dt, const struct attn_shape *s, const void *q, const void *k, const void *v, void *o, float *lse, void *ws)
{
    struct ws_layout w = ws_of(dt, s, ws);
    const int T_ = s->T, d = s->d, H = s->H;
    const long long tt = (long long)T_ * T_;
    const cudaDataType_t ty = cuda_type(dt);
    const float scale = 1.0f / sqrtf((float)d);
    const size_t es = dtype_size(dt);
    for (int b = 0; b < s->B; b++) {
        size_t in = (size_t)b * T_ * s->ld_in * es;
        if (gemm_heads(0, 1, T_, T_, d, scale, (const char *)q + in, ty, s->ld_in, d, (const char *)k + in, ty, s->ld_in, d,
                       w.S + (size_t)b * H * tt, CUDA_R_32F, T_, tt, H))
            return -1;
    }
    softmax_causal_kernel<T><<<(unsigned)((size_t)s->B * H * T_), THREADS, 0, cuda_stream>>>(T_, w.S, (T *)w.P, lse);
    CUDA_CHECK_LAUNCH();
    for (int b = 0; b < s->B; b++) {
        size_t in = (size_t)b * T_ * s->ld_in * es, out = (size_t)b * T_ * s->ld_out * es;
        if (gemm_heads(0, 0, T_, d, T_, 1.0f, (const char *)w.P + (size_t)b * H * tt * es, ty, T_, tt, (const char *)v + in, ty,
                       s->ld_in, d, (char *)o + out, ty, s->ld_out, d, H))
            return -1;
    }
    return 0;
}

template <class T>
static int bwd(enum dtype dt, const struct attn_shape *s, const void *q, const void *k, const void *v, const void *o,
               const void *dout, const float *lse, void *dq, void *dk, void *dv, void *ws)
{
    struct ws_layout w = ws_of(dt, s, ws);
    const int T_ = s->T, d = s->d, H = s->H;
    const long long tt = (long long)T_ * T_;
    const cudaDataType_t ty = cuda_type(dt);
    const float scale = 1.0f / sqrtf((float)d);
    const size_t es = dtype_size(dt), rows = (size_t)s->B * H * T_;
    for (int b = 0; b < s->B; b++) {
        size_t in = (size_t)b * T_ * s->ld_in * es;
        if (gemm_heads(0, 1, T_, T_, d, scale, (const char *)q + in, ty, s->ld_in, d, (const char *)k + in, ty, s->ld_in, d,
                       w.S + (size_t)b * H * tt, CUDA_R_32F, T_, tt, H))
            return -1;
    }
    probs_kernel<T><<<grid_for(w.heads_tt), THREADS, 0, cuda_stream>>>(w.heads_tt, T_, w.S, lse, (T *)w.P);
    CUDA_CHECK_LAUNCH();
    attention_rowdot_kernel<T><<<(unsigned)((rows * 32 + THREADS - 1) / THREADS), THREADS, 0, cuda_stream>>>(
        H, T_, d, s->ld_out, (const T *)dout, (const T *)o, w.D, rows);
    CUDA_CHECK_LAUNCH();
    for (int b = 0; b < s->B; b++) {   /* dV = Pᵀ·dO; dP = dO·Vᵀ (into S) */
        size_t in = (size_t)b * T_ * s->ld_in * es, out = (size_t)b * T_ * s->ld_out * es;
        const char *P = (const char *)w.P + (size_t)b * H * tt * es;
        if (gemm_heads(1, 0, T_, d, T_, 1.0f, P, ty, T_, tt, (const char *)dout + out, ty, s->ld_out, d, (char *)dv + in, ty,
                       s->ld_in, d, H) ||
            gemm_heads(0, 1, T_, T_, d, 1.0f, (const char *)dout + out, ty, s->ld_out, d, (const char *)v + in, ty, s->ld_in, d,
                       w.S + (size_t)b * H * tt, CUDA_R_32F, T_, tt, H))
            return -1;
    }
    dscores_kernel<T><<<grid_for(w.heads_tt), THREADS, 0, cuda_stream>>>(w.heads_tt, T_, scale, w.S, w.D, (T *)w.P);
    CUDA_CHECK_LAUNCH();
    for (int b = 0; b < s->B; b++) {   /* dQ = dS·K; dK = dSᵀ·Q */
        size_t in = (size_t)b * T_ * s->ld_in * es;
        const char *dS = (const char *)w.P + (size_t)b * H * tt * es;
        if (gemm_heads(0, 0, T_, d, T_, 1.0f, dS, ty, T_, tt, (const char *)k + in, ty, s->ld_in, d, (char *)dq + in, ty, s->ld_in, d, H) ||
            gemm_heads(1, 0, T_, d, T_, 1.0f, dS, ty, T_, tt, (const char *)q + in, ty, s->ld_in, d, (char *)dk + in, ty, s->ld_in, d, H))
            return -1;
    }
    return 0;
}

extern "C" int attention_fwd_cuda(enum dtype dt, const struct attn_shape *s, const void *q, const void *k, const void *v, void *o,
                                  float *lse, void *ws)
{
    cuda_set_impl("cuBLAS strided-batched GEMMs per sequence (full T×T, fp32 scores) + masked row softmax");
    BY_DTYPE(dt, fwd<T>(dt, s, q, k, v, o, lse, ws))
}

extern "C" int attention_bwd_cuda(enum dtype dt, const struct attn_shape *s, const void *q, const void *k, const void *v, const void *o,
                                  const void *dout, const float *lse, void *dq, void *dk, void *dv, void *ws)
{
    cuda_set_impl("cuBLAS strided-batched GEMMs per sequence (scores recomputed from lse) + elementwise dS");
    BY_DTYPE(dt, bwd<T>(dt, s, q, k, v, o, dout, lse, dq, dk, dv, ws))
}
