/* train_ops_cuda.cu: the training-step layers on the GPU and their launchers: bias gradient (one
 * block per channel), 2x2 max-pool forward/backward (one thread per window), softmax
 * cross-entropy (one block per row, then a deterministic one-block mean of the row losses). */
#include "cuda_check.h"
#include "cuda_launch.cuh"
#include "cuda_ops.h"
#include "cuda_state.h"
#include <math.h>

__global__ void bias_bwd_kernel(int outer, int ch, int inner, const float *__restrict__ dy, float *__restrict__ db)
{
    int c = blockIdx.x;
    float s = 0.f;
    for (long i = threadIdx.x; i < (long)outer * inner; i += blockDim.x) {
        long o = i / inner, j = i % inner;
        s += dy[(o * ch + c) * inner + j];
    }
    s = block_sum(s);
    if (threadIdx.x == 0) db[c] = s;
}

__global__ void maxpool2_fwd_kernel(long windows, int h, int w, const float *__restrict__ x, float *__restrict__ y, uint8_t *__restrict__ idx)
{
    int ho = h / 2, wo = w / 2;
    long stride = (long)gridDim.x * blockDim.x;
    for (long o = blockIdx.x * (long)blockDim.x + threadIdx.x; o < windows; o += stride) {
        long p = o / ((long)ho * wo);
        int i = (int)(o / wo % ho), j = (int)(o % wo);
        const float *xp = x + p * h * w + (long)2 * i * w + 2 * j;
        float v[4] = {xp[0], xp[1], xp[w], xp[w + 1]}, m = v[0];
        uint8_t k = 0;
        for (uint8_t t = 1; t < 4; t++) if (v[t] > m) { m = v[t]; k = t; }
        y[o] = m;
        idx[o] = k;
    }
}

/* One thread per input element: a gather, so no zeroing pass and no atomics. */
__global__ void maxpool2_bwd_kernel(long total, int h, int w, const float *__restrict__ dy, const uint8_t *__restrict__ idx, float *__restrict__ dx)
{
    int ho = h / 2, wo = w / 2;
    long stride = (long)gridDim.x * blockDim.x;
    for (long e = blockIdx.x * (long)blockDim.x + threadIdx.x; e < total; e += stride) {
        long p = e / ((long)h * w);
        int r = (int)(e / w % h), c = (int)(e % w), i = r / 2, j = c / 2;
        float g = 0.f;
        if (i < ho && j < wo) {
            long o = (p * ho + i) * wo + j;
            if (idx[o] == ((r & 1) << 1 | (c & 1))) g = dy[o];
        }
        dx[e] = g;
    }
}

__global__ void softmax_xent_kernel(int cols, const float *__restrict__ z, const int32_t *__restrict__ labels,
                                    float *__restrict__ losses, float *__restrict__ dz, float scale)
{
    const float *zr = z + (size_t)blockIdx.x * cols;
    float *dr = dz + (size_t)blockIdx.x * cols;
    __shared__ float bmax, bsum;
    float mx = -INFINITY, s = 0.f;
    for (int j = threadIdx.x; j < cols; j += blockDim.x) mx = fmaxf(mx, zr[j]);
    mx = block_max(mx);
    if (threadIdx.x == 0) bmax = mx;
    __syncthreads();
    mx = bmax;
    for (int j = threadIdx.x; j < cols; j += blockDim.x) s += expf(zr[j] - mx);
    s = block_sum(s);
    if (threadIdx.x == 0) bsum = s;
    __syncthreads();
    s = bsum;
    int label = labels[blockIdx.x];
    for (int j = threadIdx.x; j < cols; j += blockDim.x) dr[j] = (expf(zr[j] - mx) / s - (j == label)) * scale;
    if (threadIdx.x == 0) losses[blockIdx.x] = logf(s) + mx - zr[label];
}

__global__ void mean_kernel(int n, const float *__restrict__ v, float *__restrict__ out)
{
    float s = 0.f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) s += v[i];
    s = block_sum(s);
    if (threadIdx.x == 0) out[0] = s / n;
}


extern "C" {
int bias_bwd_cuda(int outer, int ch, int inner, const float *dy, float *db)
{
    bias_bwd_kernel<<<ch, THREADS, 0, cuda_stream>>>(outer, ch, inner, dy, db);
    CUDA_CHECK_LAUNCH();
    return 0;
}

int maxpool2_fwd_cuda(int planes, int h, int w, const float *x, float *y, uint8_t *idx)
{
    long windows = (long)planes * (h / 2) * (w / 2);
    if (windows == 0) return 0;
    maxpool2_fwd_kernel<<<grid_for(windows), THREADS, 0, cuda_stream>>>(windows, h, w, x, y, idx);
    CUDA_CHECK_LAUNCH();
    return 0;
}

int maxpool2_bwd_cuda(int planes, int h, int w, const float *dy, const uint8_t *idx, float *dx)
{
    long total = (long)planes * h * w;
    if (total == 0) return 0;
    maxpool2_bwd_kernel<<<grid_for(total), THREADS, 0, cuda_stream>>>(total, h, w, dy, idx, dx);
    CUDA_CHECK_LAUNCH();
    return 0;
}

int softmax_xent_cuda(int rows, int cols, const float *z, const int32_t *labels, float *losses, float *loss, float *dz)
{
    if (rows == 0) return 0;
    softmax_xent_kernel<<<rows, THREADS, 0, cuda_stream>>>(cols, z, labels, losses, dz, 1.0f / rows);
    CUDA_CHECK_LAUNCH();
    mean_kernel<<<1, THREADS, 0, cuda_stream>>>(rows, losses, loss);
    CUDA_CHECK_LAUNCH();
    return 0;
}
}
