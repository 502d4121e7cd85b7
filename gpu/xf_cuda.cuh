/* xf_cuda.cuh: what the attention and GPT-step kernels add to dtype_cuda.cuh and cuda_launch.cuh:
 * 8-wide vector loads and stores converting to fp32, butterfly warp reductions (every lane gets the
 * result; cuda_launch.cuh's leave it in lane 0), attention backward's row dot product (both
 * attention paths), and BY_DTYPE, which instantiates a launcher for fp32/bf16/fp16 and refuses any
 * other dtype with a reason. */
#ifndef DLBENCH_XF_CUDA_CUH
#define DLBENCH_XF_CUDA_CUH
#include <stdint.h>
#include "cuda_check.h"
#include "cuda_launch.cuh"
#include "dtype_cuda.cuh"

/* Eight consecutive elements as fp32; p 16-byte aligned (32 for fp32). */
template <class T> __device__ __forceinline__ void load8(const T *p, float (&o)[8])
{
    if constexpr (sizeof(T) == 4) {
        float4 a = reinterpret_cast<const float4 *>(p)[0], b = reinterpret_cast<const float4 *>(p)[1];
        o[0] = a.x; o[1] = a.y; o[2] = a.z; o[3] = a.w; o[4] = b.x; o[5] = b.y; o[6] = b.z; o[7] = b.w;
    } else {
        uint4 u = *reinterpret_cast<const uint4 *>(p);
        const T *e = reinterpret_cast<const T *>(&u);
#pragma unroll
        for (int i = 0; i < 8; i++) o[i] = to_f32(e[i]);
    }
}

template <class T> __device__ __forceinline__ void store8(T *p, const float (&v)[8])
{
    if constexpr (sizeof(T) == 4) {
        reinterpret_cast<float4 *>(p)[0] = make_float4(v[0], v[1], v[2], v[3]);
        reinterpret_cast<float4 *>(p)[1] = make_float4(v[4], v[5], v[6], v[7]);
    } else {
        uint4 u;
        T *e = reinterpret_cast<T *>(&u);
#pragma unroll
        for (int i = 0; i < 8; i++) e[i] = from_f32<T>(v[i]);
        *reinterpret_cast<uint4 *>(p) = u;
    }
}

__device__ __forceinline__ float warp_allsum(float v)
{
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;   /* in every lane */
}

__device__ __forceinline__ float warp_allmax(float v)
{
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

/* Attention backward's D[(b·H + h)·T + t] = dO·O of that row ((B, T, H, d) tensors with row stride
 * ld), one warp per row; both attention paths (cuBLAS and fused) start their backward with it. */
template <class T>
__global__ void attention_rowdot_kernel(int H, int Tn, int d, long ld, const T *__restrict__ dO, const T *__restrict__ O,
                                        float *__restrict__ D, size_t rows)
{
    size_t r = (blockIdx.x * (size_t)blockDim.x + threadIdx.x) >> 5;
    int lane = threadIdx.x & 31;
    if (r >= rows) return;
    int t = (int)(r % Tn), h = (int)(r / Tn % H), b = (int)(r / Tn / H);
    size_t off = ((size_t)b * Tn + t) * ld + (size_t)h * d;
    float s = 0.f;
    for (int i = lane; i < d; i += 32) s += to_f32(dO[off + i]) * to_f32(O[off + i]);
    s = warp_allsum(s);
    if (lane == 0) D[r] = s;
}

/* Instantiates `call` (which names the element type T) for the dtypes a kernel handles. */
#define BY_DTYPE(dt, call)                                                                   \
    switch (dt) {                                                                            \
    case DT_F32: { using T = float; return call; }                                           \
    case DT_BF16: { using T = __nv_bfloat16; return call; }                                  \
    case DT_F16: { using T = __half; return call; }                                          \
    default: cuda_set_error("dtype %s not supported by this GPU op", dtype_name(dt)); return -1; \
    }
#endif
