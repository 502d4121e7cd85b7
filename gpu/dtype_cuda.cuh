/* dtype_cuda.cuh: the dtypes' storage types in kernels (fp32/tf32: float, fp16: __half, bf16:
 * __nv_bfloat16), loads and stores that convert to and from fp32 arithmetic (round to nearest
 * even), and with_dtype(), which runs a generic lambda with the storage type of a run-time dtype. */
#ifndef DLBENCH_DTYPE_CUDA_CUH
#define DLBENCH_DTYPE_CUDA_CUH
#include "dtype.h"
#include <cuda_bf16.h>
#include <cuda_fp16.h>

__device__ __forceinline__ float to_f32(float v) { return v; }
__device__ __forceinline__ float to_f32(__half v) { return __half2float(v); }
__device__ __forceinline__ float to_f32(__nv_bfloat16 v) { return __bfloat162float(v); }

template <class T> __device__ __forceinline__ T from_f32(float v);
template <> __device__ __forceinline__ float from_f32<float>(float v) { return v; }
template <> __device__ __forceinline__ __half from_f32<__half>(float v) { return __float2half_rn(v); }
template <> __device__ __forceinline__ __nv_bfloat16 from_f32<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }

/* f(T{}) with T the storage type of dt; returns what f returns. */
template <class F> static inline int with_dtype(enum dtype dt, F f)
{
    switch (dt) {
    case DT_F16: return f(__half{});
    case DT_BF16: return f(__nv_bfloat16{});
    default: return f(float{});
    }
}
#endif
