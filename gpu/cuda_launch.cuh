/* cuda_launch.cuh: what every .cu file shares about launching kernels: the block size, grid
 * sizing for grid-stride loops, choosing the fastest of a few ways by timing each once, and
 * warp/block reductions. Header-only (static inline), so each translation unit gets its own copy
 * and no relocatable device code is needed. */
#ifndef DLBENCH_CUDA_LAUNCH_CUH
#define DLBENCH_CUDA_LAUNCH_CUH
#include <math.h>
#include <stddef.h>
#include <string.h>
#include "cuda_state.h"   /* cuda_sm_count */

#define THREADS 256       /* threads per block of every elementwise and row kernel */

/* Milliseconds of one call of run() (returning 0 on success) after a warm one, by CUDA events on
 * the stream; -1 when a call or the timing fails. For choosing between ways once per case, outside
 * any graph capture. */
template <class F> static float cuda_time_ms(F run)
{
    cudaEvent_t a, b;
    float ms = -1;
    if (cudaEventCreate(&a) != cudaSuccess) return -1;
    if (cudaEventCreate(&b) != cudaSuccess) { cudaEventDestroy(a); return -1; }
    if (run() == 0 && cudaEventRecord(a, cuda_stream) == cudaSuccess && run() == 0 && cudaEventRecord(b, cuda_stream) == cudaSuccess &&
        cudaEventSynchronize(b) == cudaSuccess)
        cudaEventElapsedTime(&ms, a, b);
    cudaEventDestroy(a);
    cudaEventDestroy(b);
    return ms;
}

/* Whether the stream is being captured into a CUDA graph (or its state cannot be read). */
static inline int cuda_capturing(void)
{
    cudaStreamCaptureStatus cap = cudaStreamCaptureStatusNone;
    return cudaStreamIsCapturing(cuda_stream, &cap) != cudaSuccess || cap != cudaStreamCaptureStatusNone;
}

/* The fastest of up to WAY_MAX ways of one operation for one case (the case: key bytes, padding
 * zeroed), each way timed once by cuda_time_ms; a table remembers the choices (when full, a case is
 * timed again next time). ms[i] < 0: way i failed or was not offered. */
#define WAY_MAX 3
struct way_choice { unsigned char key[96]; size_t n; int best; float ms[WAY_MAX]; };
struct way_table { way_choice e[128]; int n; };

/* *out = the remembered choice for key, or one timed now (run(0) .. run(nways - 1), each returning
 * 0 on success, then reset() undoing what the timing runs changed). Returns 1; 0 under a graph
 * capture with nothing remembered (no timing there); -1 when every way failed or reset() did. */
template <class R, class Z>
static int way_choose_n(way_table *t, const void *key, size_t n, int nways, R run, Z reset, way_choice *out)
{
    if (n > sizeof out->key || nways < 1 || nways > WAY_MAX) return -1;
    for (int i = 0; i < t->n; i++)
        if (t->e[i].n == n && !memcmp(t->e[i].key, key, n)) { *out = t->e[i]; return 1; }
    if (cuda_capturing()) return 0;
    way_choice c = {};
    memcpy(c.key, key, n);
    c.n = n;
    c.best = -1;
    for (int i = 0; i < WAY_MAX; i++) {
        c.ms[i] = i < nways ? cuda_time_ms([&] { return run(i); }) : -1.f;
        if (c.ms[i] >= 0 && (c.best < 0 || c.ms[i] < c.ms[c.best])) c.best = i;
    }
    if (c.best < 0) return -1;
    cudaGetLastError();   /* a way that failed to launch is not this call's error */
    if (t->n < (int)(sizeof t->e / sizeof t->e[0])) t->e[t->n++] = c;
    *out = c;
    return reset() ? -1 : 1;
}

/* The faster of two ways: best 0 is first(), 1 second(). */
template <class A, class B, class Z>
static int way_choose(way_table *t, const void *key, size_t n, A first, B second, Z reset, way_choice *out)
{
    return way_choose_n(t, key, n, 2, [&](int i) { return i ? second() : first(); }, reset, out);
}

/* Blocks for `work` items, one per thread, capped at 32 blocks per SM: a grid-stride loop covers
 * the rest, which keeps launches small for huge n. At least one block. */
static inline int grid_for(size_t work)
{
    size_t blocks = (work + THREADS - 1) / THREADS, cap = (size_t)cuda_sm_count * 32;
    if (blocks > cap) blocks = cap;
    return blocks < 1 ? 1 : (int)blocks;
}

struct sum_op { __device__ float operator()(float a, float b) const { return a + b; } };
struct max_op { __device__ float operator()(float a, float b) const { return fmaxf(a, b); } };

/* op over the 32 lanes of a warp, valid in lane 0. */
template <class Op> static __device__ __forceinline__ float warp_reduce(float v, Op op)
{
    for (int o = 16; o > 0; o >>= 1) v = op(v, __shfl_down_sync(0xffffffffu, v, o));
    return v;
}

/* op over the block (blockDim.x a multiple of 32, at most 1024), valid in thread 0; identity is
 * op's neutral value. Every thread must call it; it ends with a barrier so it may be called again
 * at once. The order of operations is fixed by the block size: results are deterministic. */
template <class Op> static __device__ __forceinline__ float block_reduce(float v, Op op, float identity)
{
    __shared__ float part[32];
    v = warp_reduce(v, op);
    if ((threadIdx.x & 31) == 0) part[threadIdx.x >> 5] = v;
    __syncthreads();
    v = threadIdx.x < (blockDim.x >> 5) ? part[threadIdx.x] : identity;
    if (threadIdx.x < 32) v = warp_reduce(v, op);
    __syncthreads(); /* part[] is reused by the next call */
    return v;
}

static __device__ __forceinline__ float warp_sum(float v) { return warp_reduce(v, sum_op{}); }
static __device__ __forceinline__ float warp_max(float v) { return warp_reduce(v, max_op{}); }
static __device__ __forceinline__ float block_sum(float v) { return block_reduce(v, sum_op{}, 0.f); }
static __device__ __forceinline__ float block_max(float v) { return block_reduce(v, max_op{}, -INFINITY); }

/* The same reductions with the result in every lane (butterfly shuffles) or every thread (a
 * broadcast through shared memory): for row kernels where all threads need the sum or maximum. */
template <class Op> static __device__ __forceinline__ float warp_reduce_all(float v, Op op)
{
    for (int o = 16; o > 0; o >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

template <class Op> static __device__ __forceinline__ float block_reduce_all(float v, Op op, float identity)
{
    __shared__ float bc;
    v = block_reduce(v, op, identity);   /* ends with a barrier */
    if (threadIdx.x == 0) bc = v;
    __syncthreads();
    v = bc;
    __syncthreads();                     /* bc is reused by the next call */
    return v;
}

static __device__ __forceinline__ float warp_sum_all(float v) { return warp_reduce_all(v, sum_op{}); }
static __device__ __forceinline__ float warp_max_all(float v) { return warp_reduce_all(v, max_op{}); }
static __device__ __forceinline__ float block_sum_all(float v) { return block_reduce_all(v, sum_op{}, 0.f); }
static __device__ __forceinline__ float block_max_all(float v) { return block_reduce_all(v, max_op{}, -INFINITY); }
#endif
