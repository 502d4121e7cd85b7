/* cuda_launch.cuh: what every .cu file shares about launching kernels: the block size, grid
 * sizing for grid-stride loops, and warp/block reductions. Header-only (static inline), so each
 * translation unit gets its own copy and no relocatable device code is needed. */
#ifndef DLBENCH_CUDA_LAUNCH_CUH
#define DLBENCH_CUDA_LAUNCH_CUH
#include <math.h>
#include <stddef.h>
#include "cuda_state.h"   /* cuda_sm_count */

#define THREADS 256       /* threads per block of every elementwise and row kernel */

/* Blocks for `work` items, one per thread, capped at 32 blocks per SM: a grid-stride loop covers
 * the rest, which keeps launches small for huge n. At least one block. */
static inline int grid_for(size_t work)
{
    size_t blocks = (work + THREADS - 1) / THREADS, cap = (size_t)cuda_sm_count * 32;
    if (blocks > cap) blocks = cap;
    return blocks < 1 ? 1 : (int)blocks;
}

static __device__ __forceinline__ float warp_sum(float v)
{
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
    return v; /* in lane 0 */
}

static __device__ __forceinline__ float warp_max(float v)
{
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_down_sync(0xffffffffu, v, o));
    return v; /* in lane 0 */
}

/* Sum over the block (blockDim.x a multiple of 32, at most 1024), valid in thread 0. Every
 * thread must call it; it ends with a barrier so it may be called again at once. The order of
 * additions is fixed by the block size: results are deterministic. */
static __device__ __forceinline__ float block_sum(float v)
{
    __shared__ float part[32];
    v = warp_sum(v);
    if ((threadIdx.x & 31) == 0) part[threadIdx.x >> 5] = v;
    __syncthreads();
    v = threadIdx.x < (blockDim.x >> 5) ? part[threadIdx.x] : 0.f;
    if (threadIdx.x < 32) v = warp_sum(v);
    __syncthreads(); /* part[] is reused by the next call */
    return v;
}

/* Maximum over the block, valid in thread 0; the same contract as block_sum. */
static __device__ __forceinline__ float block_max(float v)
{
    __shared__ float part[32];
    v = warp_max(v);
    if ((threadIdx.x & 31) == 0) part[threadIdx.x >> 5] = v;
    __syncthreads();
    v = threadIdx.x < (blockDim.x >> 5) ? part[threadIdx.x] : -INFINITY;
    if (threadIdx.x < 32) v = warp_max(v);
    __syncthreads();
    return v;
}
#endif
