/* conv_cuda.cu: convolution on the GPU lowered to GEMM, the same algorithm as the CPU backend:
 * im2col kernels for a chunk of images then one strided-batched cuBLAS GEMM (forward,
 * backward-data with a gathering col2im), per-image GEMMs accumulating dw (backward-filter).
 * Inputs fp32, fp16 or bf16 (stored as 4 or 2 bytes), fp32 accumulation and output. */
#include "cuda_check.h"
#include "cuda_launch.cuh"
#include "cuda_ops.h"
#include "cuda_state.h"
#include <stdint.h>
#define WORKSPACE_MAX ((size_t)512 << 20)   /* a lowered chunk never exceeds this */

struct geom { int C, H, W, K, R, S, P, Q, stride, pad, dil; };

static geom geom_of(const struct conv_shape *s)
{
    return geom{s->c, s->h, s->w, s->k, s->r, s->s, conv_p(s), conv_q(s), s->stride, s->pad, s->dil};
}

/* col[n][(c·R + r)·S + t][p·Q + q] = x[n][c][p·stride - pad + r·dil][q·stride - pad + t·dil] or 0 */
template <class T>
__global__ void im2col_kernel(long total, geom g, const T *__restrict__ x, T *__restrict__ col)
{
    long stride = (long)gridDim.x * blockDim.x;
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < total; i += stride) {
        int q = (int)(i % g.Q), p = (int)(i / g.Q % g.P);
        long row = i / ((long)g.P * g.Q);                   /* (n, c, r, t) */
        int t = (int)(row % g.S), r = (int)(row / g.S % g.R), c = (int)(row / ((long)g.S * g.R) % g.C);
        long n = row / ((long)g.S * g.R * g.C);
        int h = p * g.stride - g.pad + r * g.dil, v = q * g.stride - g.pad + t * g.dil;
        T zero;
        memset(&zero, 0, sizeof zero);
        col[i] = h >= 0 && h < g.H && v >= 0 && v < g.W ? x[((n * g.C + c) * g.H + h) * g.W + v] : zero;
    }
}

/* dx[n][c][h][v] = Σ over (r, t) hitting an output position of dcol[n][(c,r,t)][(p,q)]: a gather,
 * so every dx element has one writer and no atomics are needed. */
__global__ void col2im_kernel(long total, geom g, const float *__restrict__ dcol, float *__restrict__ dx)
{
    long stride = (long)gridDim.x * blockDim.x;
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < total; i += stride) {
        int v = (int)(i % g.W), h = (int)(i / g.W % g.H), c = (int)(i / ((long)g.W * g.H) % g.C);
        long n = i / ((long)g.W * g.H * g.C);
        float acc = 0.f;
        for (int r = 0; r < g.R; r++) {
            int ph = h + g.pad - r * g.dil;
            if (ph < 0 || ph % g.stride) continue;
            int p = ph / g.stride;
            if (p >= g.P) continue;
            for (int t = 0; t < g.S; t++) {
                int qv = v + g.pad - t * g.dil;
                if (qv < 0 || qv % g.stride) continue;
                int q = qv / g.stride;
                if (q >= g.Q) continue;
                acc += dcol[((n * g.C + c) * g.R + r) * (long)g.S * g.P * g.Q + (long)t * g.P * g.Q + (long)p * g.Q + q];
            }
        }
        dx[i] = acc;
    }
}


static void *workspace(size_t bytes)
{
    static void *ws;
    static size_t have;
    if (bytes > have) {
        if (ws) cudaFree(ws);
        ws = NULL;
        have = 0;
        if (cudaMalloc(&ws, bytes) != cudaSuccess) return NULL;
        have = bytes;
    }
    return ws;
}

static int im2col(enum dtype dt, long total, geom g, const void *x, void *col)
{
    if (dt == DT_F32) im2col_kernel<float><<<grid_for(total), THREADS, 0, cuda_stream>>>(total, g, (const float *)x, (float *)col);
    else im2col_kernel<uint16_t><<<grid_for(total), THREADS, 0, cuda_stream>>>(total, g, (const uint16_t *)x, (uint16_t *)col);
    CUDA_CHECK_LAUNCH();
    return 0;
}

extern "C" int conv_cuda(enum conv_dir d, enum dtype dt, const struct conv_shape *s, const void *a, const void *b, float *out)
{
    static const float one = 1.f, zero = 0.f;
    geom g = geom_of(s);
    cudaDataType_t in = dt == DT_F16 ? CUDA_R_16F : dt == DT_BF16 ? CUDA_R_16BF : CUDA_R_32F;
    size_t es = dtype_size(dt);
    long crs = (long)g.C * g.R * g.S, pq = (long)g.P * g.Q, xs = (long)g.C * g.H * g.W, ys = (long)g.K * pq;
    /* backward-data lowers to fp32 dcol; the others to dtype col */
    size_t per_image = (size_t)crs * pq * (d == CONV_BWD_DATA ? 4 : es);
    long chunk = (long)(WORKSPACE_MAX / per_image);
    chunk = chunk < 1 ? 1 : chunk > s->n ? s->n : chunk;
    void *col = workspace(per_image * chunk);
    if (!col) { cuda_fail(cudaErrorMemoryAllocation, "cudaMalloc(conv workspace)", __FILE__, __LINE__); return -1; }
    const char *A = (const char *)a, *B = (const char *)b;
    if (d == CONV_BWD_FILTER) CUDA_CHECK(cudaMemsetAsync(out, 0, sizeof(float) * g.K * crs, cuda_stream));
    for (long n0 = 0; n0 < s->n; n0 += chunk) {
        long nb = s->n - n0 < chunk ? s->n - n0 : chunk;
        if (d == CONV_FWD) { /* y[n] (K,PQ) = w (K,CRS) · col[n] (CRS,PQ); column-major: yᵀ = colᵀ · wᵀ */
            if (im2col(dt, nb * crs * pq, g, A + n0 * xs * es, col)) return -1;
            CUBLAS_CHECK(cublasGemmStridedBatchedEx(cublas_handle, CUBLAS_OP_N, CUBLAS_OP_N, (int)pq, g.K, (int)crs, &one,
                                                    col, in, (int)pq, crs * pq, B, in, (int)crs, 0, &zero,
                                                    out + n0 * ys, CUDA_R_32F, (int)pq, ys, (int)nb, CUBLAS_COMPUTE_32F,
                                                    CUBLAS_GEMM_DEFAULT));
        } else if (d == CONV_BWD_DATA) { /* dcol[n] (CRS,PQ) = wᵀ · dy[n]; column-major: dcolᵀ = dyᵀ · w */
            CUBLAS_CHECK(cublasGemmStridedBatchedEx(cublas_handle, CUBLAS_OP_N, CUBLAS_OP_T, (int)pq, (int)crs, g.K, &one,
                                                    A + n0 * ys * es, in, (int)pq, ys, B, in, (int)crs, 0, &zero,
                                                    col, CUDA_R_32F, (int)pq, crs * pq, (int)nb, CUBLAS_COMPUTE_32F,
                                                    CUBLAS_GEMM_DEFAULT));
            long total = nb * xs;
            col2im_kernel<<<grid_for(total), THREADS, 0, cuda_stream>>>(total, g, (const float *)col, out + n0 * xs);
            CUDA_CHECK_LAUNCH();
        } else { /* dw (K,CRS) += dy[n] (K,PQ) · col[n]ᵀ; column-major: dwᵀ += col[n] · dy[n]ᵀ */
            if (im2col(dt, nb * crs * pq, g, A + n0 * xs * es, col)) return -1;
            for (long i = 0; i < nb; i++)
                CUBLAS_CHECK(cublasGemmEx(cublas_handle, CUBLAS_OP_T, CUBLAS_OP_N, (int)crs, g.K, (int)pq, &one,
                                          (const char *)col + i * crs * pq * es, in, (int)pq, B + (n0 + i) * ys * es, in,
                                          (int)pq, &one, out, CUDA_R_32F, (int)crs, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
        }
    }
    return 0;
}

extern "C" {
int conv_fwd_cuda(enum dtype dt, const struct conv_shape *s, const void *x, const void *w, float *y)
{ return conv_cuda(CONV_FWD, dt, s, x, w, y); }
int conv_bwd_data_cuda(enum dtype dt, const struct conv_shape *s, const void *dy, const void *w, float *dx)
{ return conv_cuda(CONV_BWD_DATA, dt, s, dy, w, dx); }
int conv_bwd_filter_cuda(enum dtype dt, const struct conv_shape *s, const void *x, const void *dy, float *dw)
{ return conv_cuda(CONV_BWD_FILTER, dt, s, x, dy, dw); }
}
