/* bias_add_kernels.cuh: the bias-add kernels and their launch plan. Device code only: launched by
 * eltwise_cuda.cu (bias_add_cuda), and run on the CPU by tests/sim/eltwise_sim.cc to check it
 * without a GPU. T is the storage type (float, __half, __nv_bfloat16); to_f32 / from_f32 come from
 * the includer (dtype_cuda.cuh, or the simulator's stand-ins in cuda_sim.h).
 *   y (rows, len) = x + bias: per column (bias[j], a dense layer's (batch, features): len = ch) or
 *   per row (bias[r mod ch], a convolution's (N·C, P·Q) planes). x may be y.
 *   16-byte path, where a row is a whole number of 16-byte vectors and x and y are 16-byte aligned:
 *   a block takes rows r and r + gridDim.x a trip, its threads the rows' vectors, both rows' loads
 *   issued before either store, so each thread has two 16-byte loads in flight (as the maps in
 *   eltwise_cuda.cu), and a column's biases are read once for both rows, in 16-byte loads where
 *   bias is aligned. The one-element path it replaces there ran on the H200 (65536 x 1024) at
 *   2940 GB/s in fp32 and 1901 in fp16/bf16 (71% and 46% of the bandwidth ceiling), where the maps
 *   ran at 3813-4025 (92-97%): 4 or 2 bytes a thread in flight, not 32. Floor: x read and y
 *   written once through HBM (bias: 4 KiB from L1/L2), at the maps' ~3.9 TB/s; expected ~1.3x the
 *   old rows in fp32, ~2x in fp16/bf16.
 *   Else one element per thread a trip, threads over the row, blocks over the rows. */
#ifndef DLBENCH_BIAS_ADD_KERNELS_CUH
#define DLBENCH_BIAS_ADD_KERNELS_CUH
#include <stddef.h>
#include <stdint.h>

#define BIAS_ADD_THREADS 256        /* the most threads a block; fewer for short rows (whole warps) */
#define BIAS_ADD_BLOCKS_PER_SM 32   /* grid: at most this many blocks an SM, grid-stride over the rest */

/* How bias_add_cuda launches a call: rows of len; the 16-byte path with nv vectors a row, or not;
 * bias16: bias 16-byte aligned (a column's biases in 16-byte loads). */
struct bias_add_plan {
    size_t rows;
    int len, vec, nv, bias16;
    unsigned blocks, threads;
};

static inline bias_add_plan bias_add_plan_make(int outer, int ch, int inner, size_t elem_bytes, const void *x, const float *bias,
                                               const void *y, int sm_count)
{
    bias_add_plan p;
    p.rows = inner == 1 ? (size_t)outer : (size_t)outer * ch;
    p.len = inner == 1 ? ch : inner;
    p.vec = (size_t)p.len * elem_bytes % 16 == 0 && ((uintptr_t)x & 15) == 0 && ((uintptr_t)y & 15) == 0;
    p.nv = p.vec ? (int)((size_t)p.len * elem_bytes / 16) : 0;
    p.bias16 = ((uintptr_t)bias & 15) == 0;
    const int per_row = p.vec ? p.nv : p.len;   /* a row's work items: vectors or elements */
    const size_t cap = (size_t)(sm_count > 0 ? sm_count : 1) * BIAS_ADD_BLOCKS_PER_SM;
    p.blocks = (unsigned)(p.rows < cap ? p.rows : cap);
    p.threads = per_row >= BIAS_ADD_THREADS ? BIAS_ADD_THREADS : (unsigned)(per_row + 31) / 32 * 32;
    return p;
}

/* A column's E biases: 16-byte loads where bias is 16-byte aligned (BV), else one float a load. A
 * warp's scalar loads of these would each span 16 or 32 bytes a lane: 4-8 times the L1 traffic. */
template <int E, bool BV> __device__ __forceinline__ void bias_load(const float *__restrict__ b, float (&bv)[E])
{
    if constexpr (BV) {
#pragma unroll
        for (int k = 0; k < E / 4; k++) {
            const float4 f = reinterpret_cast<const float4 *>(b)[k];
            bv[4 * k] = f.x, bv[4 * k + 1] = f.y, bv[4 * k + 2] = f.z, bv[4 * k + 3] = f.w;
        }
    } else {
#pragma unroll
        for (int e = 0; e < E; e++) bv[e] = b[e];
    }
}

/* One 16-byte vector of T plus biases: bv[e] per element (a column's) where per_col, else rb. */
template <class T> __device__ __forceinline__ uint4 bias_add16(uint4 v, const float (&bv)[16 / sizeof(T)], int per_col, float rb)
{
    constexpr int E = 16 / sizeof(T);
    T *p = reinterpret_cast<T *>(&v);
#pragma unroll
    for (int e = 0; e < E; e++) p[e] = from_f32<T>(to_f32(p[e]) + (per_col ? bv[e] : rb));
    return v;
}

/* The 16-byte path: x and y as rows of nv vectors; BV: bias 16-byte aligned. No __restrict__ on x,
 * y: they may alias. */
template <class T, bool BV>
__global__ void bias_add16_kernel(size_t rows, int nv, int ch, int per_col, const uint4 *x, const float *__restrict__ bias, uint4 *y)
{
    constexpr int E = 16 / sizeof(T);
    const size_t step = gridDim.x;
    for (size_t r = blockIdx.x; r < rows; r += 2 * step) {
        const size_t r2 = r + step < rows ? r + step : r;   /* the trip's second row, or r again */
        const float rb = per_col ? 0.f : bias[r % ch], rb2 = per_col ? 0.f : bias[r2 % ch];
        const uint4 *x1 = x + r * nv, *x2 = x + r2 * nv;
        uint4 *y1 = y + r * nv, *y2 = y + r2 * nv;
        for (int j = threadIdx.x; j < nv; j += blockDim.x) {
            const uint4 a = x1[j], b = x2[j];
            float bv[E] = {};
            if (per_col) bias_load<E, BV>(bias + (size_t)j * E, bv);
            y1[j] = bias_add16<T>(a, bv, per_col, rb);
            if (r2 != r) y2[j] = bias_add16<T>(b, bv, per_col, rb2);
        }
    }
}

/* The one-element path: any len, any alignment; x may be y here too. */
template <class T>
__global__ void bias_add_kernel(size_t rows, int len, int ch, int per_col, const T *x, const float *__restrict__ bias, T *y)
{
    for (size_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const T *xr = x + r * len;
        T *yr = y + r * len;
        float rb = per_col ? 0.f : bias[r % ch];
        for (int j = threadIdx.x; j < len; j += blockDim.x) yr[j] = from_f32<T>(to_f32(xr[j]) + (per_col ? bias[j] : rb));
    }
}
#endif
