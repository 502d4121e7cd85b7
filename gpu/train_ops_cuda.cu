/* train_ops_cuda.cu: the training-step layers on the GPU and their launchers: bias gradient
 * (column sums, or blocks per part of a channel), 2x2 max-pool forward/backward (one thread per
 * window), softmax cross-entropy (one block per row, then a deterministic one-block mean of the row losses), and
 * next_batch, which lets a captured step pick its batch from a step count in device memory. */
#include "cuda_check.h"
#include "cuda_launch.cuh"
#include "cuda_ops.h"
#include "cuda_state.h"
#include <math.h>

/* db[c] = Σ_o Σ_j dy[o][c][j]. inner == 1 (linear layers, dy (outer, ch)): a block per 32
 * columns, lanes on columns (coalesced), its 8 warps on interleaved rows, then warp 0 adds the 8
 * partial sums in a fixed order: a few loads per thread instead of one thread per column walking
 * all rows. inner > 1 (conv): block (c, part) sums rows o of its part with threads along j; parts
 * > 1 spread a channel over several SMs (MNIST conv1: 32 channels of 100352 values), and a second
 * kernel adds each channel's parts in a fixed order. */
__global__ void bias_colsum_kernel(int outer, int ch, const float *__restrict__ dy, float *__restrict__ db)
{
    __shared__ float part[THREADS / 32][33];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5, c = blockIdx.x * 32 + lane;
    float s = 0.f;
    if (c < ch)
        for (int o = warp; o < outer; o += warps) s += dy[(size_t)o * ch + c];
    part[warp][lane] = s;
    __syncthreads();
    if (warp == 0) {
        float t = 0.f;
        for (int w = 0; w < warps; w++) t += part[w][lane];
        if (c < ch) db[c] = t;
    }
}

__global__ void bias_bwd_kernel(int outer, int ch, int inner, int parts, const float *__restrict__ dy, float *__restrict__ out)
{
    int c = blockIdx.x, part = blockIdx.y;
    int o0 = (int)((long)outer * part / parts), o1 = (int)((long)outer * (part + 1) / parts);
    float s = 0.f;
    for (int o = o0; o < o1; o++) {
        const float *row = dy + ((size_t)o * ch + c) * inner;
        for (int j = threadIdx.x; j < inner; j += blockDim.x) s += row[j];
    }
    s = block_sum(s);
    if (threadIdx.x == 0) out[(size_t)c * parts + part] = s;
}

__global__ void sum_parts_kernel(int ch, int parts, const float *__restrict__ part, float *__restrict__ db)
{
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= ch) return;
    float s = 0.f;
    for (int k = 0; k < parts; k++) s += part[(size_t)c * parts + k];
    db[c] = s;
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

/* x, y = batch (*step mod nbatches) of xs (nbatches·batch, xlen), ys; then ++*step in a second
 * kernel, so every thread of the copy reads the same count. */
__global__ void batch_copy_kernel(size_t xn, int batch, int nbatches, const int32_t *__restrict__ step,
                                  const float *__restrict__ xs, const int32_t *__restrict__ ys, float *__restrict__ x,
                                  int32_t *__restrict__ y)
{
    int k = *step % nbatches;
    if (k < 0) k += nbatches;
    const float *src = xs + (size_t)k * xn;
    size_t stride = (size_t)gridDim.x * blockDim.x;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < xn + (size_t)batch; i += stride) {
        if (i < xn) x[i] = src[i];
        else y[i - xn] = ys[(size_t)k * batch + (i - xn)];
    }
}

__global__ void step_count_kernel(int32_t *step) { *step += 1; }

extern "C" {
int bias_bwd_cuda(int outer, int ch, int inner, const float *dy, float *db)
{
    static float *partial;   /* grown on an eager (uncaptured) call, reused by captured steps */
    static size_t have;
    if (ch <= 0) return 0;
    if (inner == 1) {
        bias_colsum_kernel<<<(ch + 31) / 32, THREADS, 0, cuda_stream>>>(outer, ch, dy, db);
        CUDA_CHECK_LAUNCH();
        return 0;
    }
    /* about two blocks per SM in all, each summing at least 16 Ki values */
    long per = (long)outer * inner, parts = (2L * cuda_sm_count + ch - 1) / ch, most = per / 16384;
    if (parts > most) parts = most;
    if (parts > 64) parts = 64;
    if (parts > outer) parts = outer;
    if (parts <= 1) {
        bias_bwd_kernel<<<dim3(ch, 1), THREADS, 0, cuda_stream>>>(outer, ch, inner, 1, dy, db);
        CUDA_CHECK_LAUNCH();
        return 0;
    }
    size_t need = (size_t)ch * parts * sizeof(float);
    if (need > have) {
        if (partial) cudaFree(partial);
        partial = NULL;
        have = 0;
        CUDA_CHECK(cudaMalloc(&partial, need));
        have = need;
    }
    bias_bwd_kernel<<<dim3(ch, (unsigned)parts), THREADS, 0, cuda_stream>>>(outer, ch, inner, (int)parts, dy, partial);
    CUDA_CHECK_LAUNCH();
    sum_parts_kernel<<<(ch + THREADS - 1) / THREADS, THREADS, 0, cuda_stream>>>(ch, (int)parts, partial, db);
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

int next_batch_cuda(int32_t *step, int nbatches, int batch, size_t xlen, const float *xs, const int32_t *ys, float *x, int32_t *y)
{
    if (nbatches < 1 || batch < 1) { cuda_set_error("next_batch: no batch"); return -1; }
    size_t xn = (size_t)batch * xlen;
    batch_copy_kernel<<<grid_for((long)(xn + batch)), THREADS, 0, cuda_stream>>>(xn, batch, nbatches, step, xs, ys, x, y);
    CUDA_CHECK_LAUNCH();
    step_count_kernel<<<1, 1, 0, cuda_stream>>>(step);
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
